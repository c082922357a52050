/** Responses the proxy builds without an upstream body to stream: errors, and upstream failures. */
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '#shared/errors.ts';
import { errorResponse, failureResponse } from '#shared/proxy/response.ts';
import { RateLimitedError } from '#shared/store/metering.ts';

describe('errorResponse', () => {
  it("answers in the route's API shape with the error's own headers and the request id", () => {
    // Prepare
    const error = new RateLimitedError(10, 30);

    // Act
    const response = errorResponse(error, 'gemini', 'req-9');

    // Assess
    expect(response.status).toBe(429);
    expect(response.headers).toMatchObject({ 'retry-after': '30', 'x-request-id': 'req-9' });
    expect(JSON.parse(String(response.body))).toEqual(error.toWire('gemini'));
  });
});

describe('failureResponse', () => {
  it("passes an upstream's own 4xx through as it is", () => {
    // Prepare
    const failure = {
      ok: false as const,
      status: 422,
      contentType: 'application/json',
      text: '{"e":1}',
      rateLimited: false,
    };

    // Act
    const response = failureResponse(failure, 'req-1');

    // Assess
    expect(response).toEqual({
      status: 422,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' },
      body: '{"e":1}',
    });
  });

  it("turns an upstream 5xx into the gateway's 502, without the upstream's body", () => {
    const failure = {
      ok: false as const,
      status: 503,
      contentType: 'text/plain',
      text: 'internal',
      rateLimited: false,
    };
    expect(() => failureResponse(failure, 'req-1')).toThrow(UpstreamError);
  });
});
