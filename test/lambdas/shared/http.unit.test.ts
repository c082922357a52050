/** The transport-neutral response helpers. */
import { describe, expect, it } from 'vitest';
import { jsonResponse, normaliseHeaders } from '#shared/http.ts';

describe('jsonResponse', () => {
  it('serialises the body with a JSON content type that extra headers can join', () => {
    expect(jsonResponse(201, { a: 1 }, { 'x-request-id': 'r' })).toEqual({
      status: 201,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r' },
      body: '{"a":1}',
    });
  });
});

describe('normaliseHeaders', () => {
  it('lower-cases names and drops undefined values', () => {
    expect(normaliseHeaders({ Authorization: 'Bearer x', 'X-Api-Key': undefined })).toEqual({
      authorization: 'Bearer x',
    });
    expect(normaliseHeaders(null)).toEqual({});
  });
});
