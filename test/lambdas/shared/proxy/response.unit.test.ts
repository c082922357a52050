/** Responses the proxy builds without an upstream body to stream: errors, and upstream failures. */
import { describe, expect, it } from 'vitest';
import { UpstreamCredentialRejectedError, UpstreamError } from '#shared/errors.ts';
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
      rejected: false,
    };

    // Act
    const response = failureResponse(failure, { requestId: 'req-1', provider: 'up' });

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
      rejected: false,
    };
    expect(() => failureResponse(failure, { requestId: 'req-1', provider: 'up' })).toThrow(UpstreamError);
  });

  it("turns a refused credential into the gateway's 502 upstream_credential_rejected, not the client's 401", () => {
    // Prepare
    const failure = {
      ok: false as const,
      status: 401,
      contentType: 'application/json',
      text: '{"error":{"code":"invalid_api_key"}}',
      rateLimited: false,
      rejected: true,
    };

    // Act
    const thrown = (() => {
      try {
        failureResponse(failure, { requestId: 'req-1', provider: 'up' });
      } catch (err) {
        return err;
      }
      return undefined;
    })();

    // Assess
    expect(thrown).toBeInstanceOf(UpstreamCredentialRejectedError);
    expect(thrown).toMatchObject({ status: 502, code: 'upstream_credential_rejected' });
  });

  it("passes the upstream's Retry-After on with its 429", () => {
    // Prepare
    const failure = {
      ok: false as const,
      status: 429,
      contentType: 'application/json',
      text: '{}',
      rateLimited: true,
      rejected: false,
      retryAfter: '20',
    };

    // Act
    const response = failureResponse(failure, { requestId: 'req-1', provider: 'up' });

    // Assess
    expect(response.headers).toMatchObject({ 'retry-after': '20' });
  });
});
