/**
 * Response building: an upstream success becomes the client's whole or streamed response (and settles
 * the call when its usage is known), an upstream failure is passed through or becomes a 502, and a
 * gateway error is answered in the calling API's own error shape.
 */
import {
  type ApiShape,
  type GatewayError,
  UpstreamCredentialRejectedError,
  UpstreamError,
} from '../errors.ts';
import { type GatewayResponse, jsonResponse } from '../http.ts';
import { logger } from '../log.ts';
import { adapterFor } from '../providers/index.ts';
import type { ResolvedProvider } from '../store/providers.ts';
import type { AdmittedCall } from './admission.ts';
import type { ProxyRuntime } from './context.ts';
import { streamBody } from './stream.ts';
import type { ModelSlug } from './targets.ts';
import { readWhole, type UpstreamFailure, type UpstreamSuccess } from './upstream.ts';

/** A gateway error in the route's API shape. */
export function errorResponse(err: GatewayError, shape: ApiShape, requestId: string): GatewayResponse {
  return jsonResponse(err.status, err.toWire(shape, requestId), {
    ...err.headers,
    'x-request-id': requestId,
  });
}

/**
 * An upstream's non-success answer: its own 4xx as they are (a 429 with the upstream's last
 * `Retry-After`), a refused credential as the gateway's 502 `upstream_credential_rejected`, a 5xx as 502.
 */
export function failureResponse(
  failure: UpstreamFailure,
  context: { requestId: string; provider: string },
): GatewayResponse {
  if (failure.rejected) throw new UpstreamCredentialRejectedError(context.provider, failure.status);
  if (failure.status >= 500)
    throw new UpstreamError(`The upstream provider failed with status ${failure.status}.`);
  // The upstream's own 4xx (bad parameters, its rate limits) reach the client as they are.
  return {
    status: failure.status,
    headers: {
      'content-type': failure.contentType,
      'x-request-id': context.requestId,
      ...(failure.status === 429 && failure.retryAfter !== undefined
        ? { 'retry-after': failure.retryAfter }
        : {}),
    },
    body: failure.text,
  };
}

/** The target that answered, and how. */
export interface Answer {
  slug: ModelSlug;
  resolved: ResolvedProvider;
  attempt: UpstreamSuccess;
  /** The gateway asked for a usage chunk the client did not: it is filtered out of the stream. */
  hideUsageChunk: boolean;
}

/** The client's response to an upstream success: streamed when the client asked and the upstream streams. */
export async function successResponse(
  rt: ProxyRuntime,
  call: AdmittedCall,
  answer: Answer,
): Promise<GatewayResponse> {
  const { req, outcome, finish } = call;
  const { slug, attempt } = answer;
  const { response, abort, clearTimer } = attempt;
  const price = call.priceOf(slug);
  const adapter = adapterFor(answer.resolved.config.type);
  const headers = { 'x-request-id': req.requestId };
  const contentType = response.headers.get('content-type') ?? '';
  if (call.request.stream && contentType.includes('text/event-stream') && response.body !== null) {
    // Past the headers, the idle timer and heartbeats take over from the first-byte timer.
    clearTimer();
    return {
      status: response.status,
      headers: {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
      },
      body: streamBody({
        upstream: response.body,
        adapter,
        abort,
        shape: call.route.shape,
        hideUsageChunk: answer.hideUsageChunk,
        timings: { heartbeatMs: rt.deps.heartbeatMs, idleTimeoutMs: rt.deps.idleTimeoutMs },
        onEnd: async (end) => {
          if (end.error !== undefined) rt.recordFailure(slug.provider, end.error.code);
          // A stream that did not run to its end (the client left, the upstream broke off) is billed for
          // the content delivered: an upstream's running count (Anthropic's message_start says 1) lags it.
          const complete = !end.disconnected && end.error === undefined && end.usage !== undefined;
          const usage = complete
            ? end.usage
            : {
                inputTokens: end.usage?.inputTokens ?? call.inputEstimate,
                outputTokens: Math.max(end.usage?.outputTokens ?? 0, end.contentEvents),
              };
          await finish({
            status: response.status,
            slug,
            price,
            usage,
            disconnected: end.disconnected,
            firstByteAt: end.firstByteAt,
            upstreamMs: outcome.upstreamMs,
          });
          logger.info('stream end', {
            requestId: req.requestId,
            keyId: req.auth?.keyId,
            disconnected: end.disconnected,
            error: end.error?.code,
          });
        },
      }),
    };
  }
  const text = await readWhole(attempt);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  await finish({
    status: response.status,
    slug,
    price,
    usage: adapter.usageFromBody(parsed),
    firstByteAt: rt.now(),
    upstreamMs: outcome.upstreamMs,
  });
  return {
    status: response.status,
    headers: { ...headers, 'content-type': contentType || 'application/json' },
    body: text,
  };
}
