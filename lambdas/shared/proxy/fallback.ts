/**
 * The upstream attempts of an admitted call: each target in order (an alias's fallback chain), each with
 * credential failover inside `callUpstream`. Until a byte reaches the client, a rate limit or a 5xx moves
 * on to the next target; any other answer is the client's to see.
 */
import {
  type GatewayError,
  ModelNotFoundError,
  NoUpstreamCredentialError,
  toGatewayError,
} from '../errors.ts';
import type { GatewayResponse } from '../http.ts';
import { adapterFor, speaks } from '../providers/index.ts';
import type { ResolvedProvider } from '../store/providers.ts';
import type { AdmittedCall } from './admission.ts';
import type { ProxyRuntime } from './context.ts';
import type { UpstreamPayload } from './operations.ts';
import { failureResponse, successResponse } from './response.ts';
import type { ModelSlug } from './targets.ts';
import { callUpstream, type UpstreamFailure, type UpstreamSuccess } from './upstream.ts';

/** One target's provider, the payload sent to it and its answer. */
interface Attempt {
  resolved: ResolvedProvider;
  payload: UpstreamPayload;
  result: UpstreamSuccess | UpstreamFailure;
}

/**
 * The provider with only the credentials a key or team is bound to (by label), in their order: failover
 * stays within the account the operator charges that traffic to. No binding: every credential.
 * @throws {NoUpstreamCredentialError} when the provider holds none of the bound labels.
 */
function boundTo(resolved: ResolvedProvider, labels: readonly string[] | undefined): ResolvedProvider {
  if (labels === undefined || adapterFor(resolved.config.type).inProcess !== undefined) return resolved;
  const credentials = resolved.credentials.filter((c) => c.label !== undefined && labels.includes(c.label));
  if (credentials.length === 0)
    throw new NoUpstreamCredentialError(resolved.config.provider, 'bound to this key or its team');
  return { ...resolved, credentials };
}

/** Resolves the target's provider and calls it. */
async function attempt(rt: ProxyRuntime, call: AdmittedCall, slug: ModelSlug): Promise<Attempt> {
  const { req, route, operation, request } = call;
  const resolved = await rt.deps.providers.resolve(slug.provider);
  if (resolved === undefined)
    throw new ModelNotFoundError(`No provider named '${slug.provider}' is registered.`);
  if (!speaks(resolved.config.type, route.shape)) {
    throw new ModelNotFoundError(
      `Provider '${slug.provider}' does not speak the ${route.shape} API of this route.`,
    );
  }
  const bound = boundTo(resolved, call.auth.credentials);
  const payload = operation.payload(call.body, slug.model, request.stream);
  const started = rt.now();
  const result = await callUpstream({
    resolved: bound,
    adapter: adapterFor(resolved.config.type),
    operation: request.upstream,
    model: slug.model,
    body: payload.body,
    clientHeaders: req.headers,
    signal: req.signal,
    firstByteTimeoutMs: rt.deps.firstByteTimeoutMs,
    cooldownMs: rt.deps.rateLimitCooldownMs,
    cooldowns: rt.cooldowns,
    fetch: rt.fetch,
    onRateLimited: (status) => {
      rt.recordFailure(slug.provider, 'rate_limited', status);
      rt.stats?.note(slug.provider, { rateLimited: true });
    },
    onRejected: (credentialId, status) => rt.recordRejection(slug.provider, { credentialId, status }),
    onUnreachable: (code) => rt.recordFailure(slug.provider, code),
  });
  call.outcome.upstreamMs = rt.now() - started;
  rt.stats?.note(slug.provider, {
    request: true,
    error: !result.ok && (result.rejected || result.status >= 500),
    ...(result.ok ? { ttfbMs: call.outcome.upstreamMs } : {}),
  });
  return { resolved, payload, result };
}

/** Tries the call's targets in order and answers with the first that serves it, or the last failure. */
export async function tryTargets(rt: ProxyRuntime, call: AdmittedCall): Promise<GatewayResponse> {
  const { req, targets, finish } = call;
  let lastError: GatewayError | undefined;
  let lastFailure: UpstreamFailure | undefined;
  let lastProvider = '';
  for (const [index, slug] of targets.entries()) {
    const isLast = index === targets.length - 1;
    call.outcome.provider = slug.provider;
    let done: Attempt;
    try {
      done = await attempt(rt, call, slug);
    } catch (err) {
      const gatewayError = toGatewayError(err);
      // Nothing has reached the client yet: an alias may still try its next target.
      if (isLast || gatewayError.status < 500 || req.signal.aborted) throw gatewayError;
      lastError = gatewayError;
      lastFailure = undefined;
      continue;
    }
    const { result } = done;
    if (result.ok) {
      return successResponse(rt, call, {
        slug,
        resolved: done.resolved,
        attempt: result,
        hideUsageChunk: done.payload.hideUsageChunk,
      });
    }
    // A client's own mistake (400, 404, 422) says nothing about the provider's health.
    if (result.rejected) rt.recordFailure(slug.provider, 'upstream_credential_rejected', result.status);
    else if (!result.rateLimited && result.status >= 500)
      rt.recordFailure(slug.provider, `upstream_${result.status}`, result.status);
    lastFailure = result;
    lastProvider = slug.provider;
    lastError = undefined;
    // Aliases fall back on rate limits, refused credentials and 5xx; other answers are the client's to see.
    if (isLast || !(result.rateLimited || result.rejected || result.status >= 500)) {
      const response = failureResponse(result, { requestId: req.requestId, provider: slug.provider });
      await finish({ status: response.status, slug });
      return response;
    }
  }
  if (lastFailure !== undefined) {
    const response = failureResponse(lastFailure, { requestId: req.requestId, provider: lastProvider });
    await finish({ status: response.status });
    return response;
  }
  throw lastError ?? new ModelNotFoundError(`Model '${call.request.model}' has no target.`);
}
