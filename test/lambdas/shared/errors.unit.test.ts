/** Gateway errors: a status and code each, rendered in the calling API's own error shape. */
import { describe, expect, it } from 'vitest';
import { API_SHAPES } from '#shared/apis.ts';
import {
  ERROR_CATALOGUE,
  errorBody,
  GatewayError,
  gatewayErrorBody,
  InvalidApiKeyError,
  ModelNotAllowedError,
  toGatewayError,
} from '#shared/errors.ts';

describe('errorBody', () => {
  it("renders OpenAI's, Anthropic's and Gemini's error bodies", () => {
    expect(errorBody('openai', 'rate_limited', 'slow down')).toEqual({
      error: { message: 'slow down', type: 'rate_limit_exceeded', param: null, code: 'rate_limited' },
    });
    expect(errorBody('anthropic', 'rate_limited', 'slow down')).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    expect(errorBody('gemini', 'rate_limited', 'slow down')).toEqual({
      error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' },
    });
  });

  it('names every catalogued error in every registered API', () => {
    for (const code of Object.keys(ERROR_CATALOGUE) as Array<keyof typeof ERROR_CATALOGUE>) {
      for (const shape of Object.keys(API_SHAPES) as Array<keyof typeof API_SHAPES>) {
        expect(JSON.stringify(errorBody(shape, code, 'm'))).toContain(ERROR_CATALOGUE[code][shape]);
      }
    }
  });
});

describe('gatewayErrorBody', () => {
  it("carries every SDK family's fields at once", () => {
    expect(gatewayErrorBody('invalid_api_key', 'no')).toEqual({
      type: 'error',
      error: {
        type: 'authentication_error',
        code: 'invalid_api_key',
        message: 'no',
        status: 'UNAUTHENTICATED',
      },
    });
  });
});

describe('GatewayError', () => {
  it('knows its status from the catalogue and renders itself per API', () => {
    // Prepare
    const error = new ModelNotAllowedError('openai/gpt-4o');

    // Act
    const wire = error.toWire('anthropic');

    // Assess
    expect(error.status).toBe(403);
    expect(error.name).toBe('ModelNotAllowedError');
    expect(wire).toEqual({ type: 'error', error: { type: 'permission_error', message: error.message } });
  });

  it('gives every key refusal the same message', () => {
    expect(new InvalidApiKeyError().message).toBe(new InvalidApiKeyError().message);
    expect(new InvalidApiKeyError().status).toBe(401);
  });
});

describe('toGatewayError', () => {
  it('keeps gateway errors and turns anything else into a 500 without its message', () => {
    // Prepare
    const known = new InvalidApiKeyError();

    // Act
    const kept = toGatewayError(known);
    const wrapped = toGatewayError(new Error('secret detail of the database'));

    // Assess
    expect(kept).toBe(known);
    expect(wrapped).toBeInstanceOf(GatewayError);
    expect(wrapped.status).toBe(500);
    expect(wrapped.message).not.toContain('secret');
  });
});
