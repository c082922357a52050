/** The registry of client API shapes: every shape complete, carriers read in their documented order. */
import { describe, expect, it } from 'vitest';
import { API_SHAPES, type ApiShape, KEY_CARRIERS } from '#shared/apis.ts';
import { keyFromRequest } from '#shared/keys.ts';

const SHAPES = Object.keys(API_SHAPES) as ApiShape[];

describe('API_SHAPES', () => {
  it.each(SHAPES)('%s names only registered key carriers, bearer first', (shape) => {
    const { carriers } = API_SHAPES[shape];
    expect(carriers[0]).toBe('bearer');
    for (const carrier of carriers) expect(Object.keys(KEY_CARRIERS)).toContain(carrier);
  });

  it.each(SHAPES)("%s's error body holds every property its OpenAPI schema requires", (shape) => {
    // Prepare
    const spec = API_SHAPES[shape];

    // Act
    const body = spec.errorBody({ status: 400, code: 'invalid_request', type: 'x', message: 'm' });

    // Assess
    for (const property of spec.errorSchema.required) expect(body).toHaveProperty(property);
    expect(Object.keys(body).every((p) => p in spec.errorSchema.properties)).toBe(true);
  });

  it('sends bare model ids only from APIs whose SDKs do', () => {
    expect(SHAPES.filter((s) => API_SHAPES[s].bareModels)).toEqual(['anthropic', 'gemini']);
  });

  it('frames a late stream error as an event only for Anthropic', () => {
    expect(SHAPES.map((s) => API_SHAPES[s].streamErrorEvent)).toEqual([undefined, 'error', undefined]);
  });
});

describe('keyFromRequest', () => {
  it('reads each carrier, the first present winning in registry order', () => {
    expect(keyFromRequest({ authorization: 'Bearer a' }, { key: 'q' })).toBe('a');
    expect(keyFromRequest({ 'x-api-key': 'b', 'x-goog-api-key': 'c' })).toBe('b');
    expect(keyFromRequest({ 'x-goog-api-key': 'c' }, { key: 'q' })).toBe('c');
    expect(keyFromRequest({}, { key: 'q' })).toBe('q');
    expect(keyFromRequest({})).toBeUndefined();
  });

  it('takes a malformed Authorization header as no key, without falling through to other carriers', () => {
    expect(keyFromRequest({ authorization: 'Basic a', 'x-api-key': 'b' })).toBeUndefined();
  });
});
