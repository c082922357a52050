/**
 * The proxy's domain logic, free of Lambda and HTTP-server types: validate, admit, resolve the model to
 * provider targets, call the upstream (credential failover, alias fallback) and hand back a whole or
 * streamed response. It never throws: every failure becomes a response in the calling API's error shape.
 */
import {
  type ApiShape,
  type GatewayError,
  InvalidApiKeyError,
  ModelNotAllowedError,
  ModelNotFoundError,
  NotFoundError,
  toGatewayError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../errors.ts';
import { type GatewayRequest, type GatewayResponse, jsonResponse } from '../http.ts';
import { keyFromRequest, parseKey } from '../keys.ts';
import { logger } from '../log.ts';
import { adapterFor, apiOf } from '../providers/index.ts';
import type { Usage } from '../providers/types.ts';
import { matchRoute, type RouteSpec, routeForResource } from '../routes.ts';
import type { KeyStore, KeyView } from '../store/keys.ts';
import type { Alias, ProviderView, ResolvedProvider } from '../store/providers.ts';
import type { ProviderHealth, UsageStore } from '../store/usage.ts';
import { parseJsonObject } from './body.ts';
import { OPERATIONS, type OperationRequest } from './operations.ts';
import { streamBody } from './stream.ts';
import {
  CredentialCooldowns,
  callUpstream,
  readWhole,
  type UpstreamFailure,
  type UpstreamSuccess,
} from './upstream.ts';

/** Where the proxy finds providers and aliases; the Lambda wraps the store in a bounded-time cache. */
export interface ProviderSource {
  resolve(name: string): Promise<ResolvedProvider | undefined>;
  list(): Promise<ProviderView[]>;
  listAliases(): Promise<Alias[]>;
}

/** Timeouts and intervals, all in milliseconds. */
export interface ProxyTimings {
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  heartbeatMs: number;
  /** How long a rate-limited credential is skipped when the upstream gives no Retry-After. */
  rateLimitCooldownMs: number;
}

/** Everything the proxy needs from the outside world. */
export interface ProxyDeps extends ProxyTimings {
  keys: KeyStore;
  providers: ProviderSource;
  usage: Pick<UsageStore, 'record' | 'recordFailure' | 'health'>;
  keyPrefix: string;
  maxBodyBytes: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** A model slug split into the operator's provider name and the upstream model id. */
export interface ModelSlug {
  provider: string;
  model: string;
}

/** Splits `provider/model` at the first slash. */
export function parseSlug(model: string): ModelSlug | undefined {
  const slash = model.indexOf('/');
  if (slash <= 0 || slash === model.length - 1) return undefined;
  return { provider: model.slice(0, slash), model: model.slice(slash + 1) };
}

/** True when a key whose scope is `patterns` may use `slug` (`*`, `provider/*`, `provider` or the exact slug). */
export function modelAllowed(patterns: readonly string[], slug: ModelSlug): boolean {
  if (patterns.length === 0) return true;
  const full = `${slug.provider}/${slug.model}`;
  return patterns.some((p) => p === '*' || p === full || p === `${slug.provider}/*` || p === slug.provider);
}

interface Outcome {
  status: number;
  model?: string;
  provider?: string;
  upstreamMs?: number;
}

/** The proxy: one `handle` per request. */
export interface GatewayProxy {
  handle(req: GatewayRequest): Promise<GatewayResponse>;
}

/** Builds the proxy over its dependencies. */
export function createProxy(deps: ProxyDeps): GatewayProxy {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const cooldowns = new CredentialCooldowns(now);

  function errorResponse(err: GatewayError, shape: ApiShape, requestId: string): GatewayResponse {
    return jsonResponse(err.status, err.toWire(shape), { ...err.headers, 'x-request-id': requestId });
  }

  /** The key a request carries, checked for format; undefined when it carries none. */
  function presentedKey(req: GatewayRequest): { keyId: string; hash: string } | undefined {
    const candidate = keyFromRequest(req.headers, req.query);
    if (candidate === undefined) return undefined;
    const parsed = parseKey(candidate, deps.keyPrefix);
    if (parsed === undefined) throw new InvalidApiKeyError();
    return parsed;
  }

  /** Resolves what the client named into the ordered `provider/model` targets to try. */
  async function targetsFor(model: string, shape: ApiShape): Promise<ModelSlug[]> {
    const slug = parseSlug(model);
    if (slug !== undefined) return [slug];
    const alias = (await deps.providers.listAliases()).find((a) => a.name === model);
    if (alias !== undefined) return alias.targets.flatMap((t) => parseSlug(t) ?? []);
    if (shape !== 'openai') {
      // Anthropic and Gemini clients send bare ids: the first provider speaking their API serves them.
      const provider = (await deps.providers.list()).find((p) => apiOf(p.type) === shape);
      if (provider !== undefined) return [{ provider: provider.provider, model }];
    }
    throw new ModelNotFoundError(
      `Model '${model}' is not a 'provider/model' slug or a known alias, e.g. 'openai/gpt-4o'.`,
    );
  }

  function recordFailure(provider: string, errorClass: string, status?: number): void {
    deps.usage.recordFailure(provider, errorClass, status, new Date(now())).catch((err: unknown) => {
      logger.warn('could not record provider health', { error: (err as Error).name });
    });
  }

  function failureResponse(failure: UpstreamFailure, requestId: string): GatewayResponse {
    if (failure.status >= 500)
      throw new UpstreamError(`The upstream provider failed with status ${failure.status}.`);
    // The upstream's own 4xx (bad parameters, its rate limits) reach the client as they are.
    return {
      status: failure.status,
      headers: { 'content-type': failure.contentType, 'x-request-id': requestId },
      body: failure.text,
    };
  }

  async function meter(key: KeyView, slug: ModelSlug, usage: Usage | undefined): Promise<void> {
    if (usage === undefined) return;
    await deps.usage.record(key.keyId, `${slug.provider}/${slug.model}`, usage, new Date(now()));
  }

  async function proxied(
    req: GatewayRequest,
    route: RouteSpec,
    params: Record<string, string>,
    outcome: Outcome,
  ): Promise<GatewayResponse> {
    const operation = OPERATIONS[route.operation];
    if (operation === undefined) throw new NotFoundError(req.method, req.path);
    const body = parseJsonObject(req.body, deps.maxBodyBytes);
    const request: OperationRequest = operation.read(body, params, req.query);
    const presented = presentedKey(req);
    if (presented === undefined || (req.auth !== undefined && presented.keyId !== req.auth.keyId))
      throw new InvalidApiKeyError();
    // One conditional write both re-checks the key (revocation is immediate) and returns its current scope.
    const key = await deps.keys.admit(presented.keyId, presented.hash);
    outcome.model = request.model;

    const targets = await targetsFor(request.model, route.shape);
    const allowed = targets.filter((t) => modelAllowed(key.models, t));
    if (allowed.length === 0) throw new ModelNotAllowedError(request.model);

    let lastError: GatewayError | undefined;
    let lastFailure: UpstreamFailure | undefined;
    for (const [index, slug] of allowed.entries()) {
      const isLast = index === allowed.length - 1;
      outcome.provider = slug.provider;
      let attempt: UpstreamSuccess | UpstreamFailure;
      let resolved: ResolvedProvider;
      let payload: ReturnType<typeof operation.payload>;
      try {
        const found = await deps.providers.resolve(slug.provider);
        if (found === undefined)
          throw new ModelNotFoundError(`No provider named '${slug.provider}' is registered.`);
        if (apiOf(found.config.type) !== route.shape) {
          throw new ModelNotFoundError(
            `Provider '${slug.provider}' does not speak the ${route.shape} API of this route.`,
          );
        }
        resolved = found;
        payload = operation.payload(body, slug.model, request.stream);
        const started = now();
        attempt = await callUpstream({
          resolved,
          adapter: adapterFor(resolved.config.type),
          operation: request.upstream,
          model: slug.model,
          body: payload.body,
          clientHeaders: req.headers,
          signal: req.signal,
          firstByteTimeoutMs: deps.firstByteTimeoutMs,
          cooldownMs: deps.rateLimitCooldownMs,
          cooldowns,
          fetch: doFetch,
          onRateLimited: (status) => recordFailure(slug.provider, 'rate_limited', status),
        });
        outcome.upstreamMs = now() - started;
      } catch (err) {
        const gatewayError = toGatewayError(err);
        if (err instanceof UpstreamTimeoutError || err instanceof UpstreamError)
          recordFailure(slug.provider, gatewayError.code);
        // Nothing has reached the client yet: an alias may still try its next target.
        if (isLast || gatewayError.status < 500 || req.signal.aborted) throw gatewayError;
        lastError = gatewayError;
        lastFailure = undefined;
        continue;
      }
      if (attempt.ok) {
        return success(
          req,
          route,
          key,
          slug,
          resolved,
          attempt,
          payload.hideUsageChunk,
          request.stream,
          outcome,
        );
      }
      // A client's own mistake (400, 404, 422) says nothing about the provider's health.
      const providerFault = attempt.status === 401 || attempt.status === 403 || attempt.status >= 500;
      if (!attempt.rateLimited && providerFault)
        recordFailure(slug.provider, `upstream_${attempt.status}`, attempt.status);
      lastFailure = attempt;
      lastError = undefined;
      // Aliases fall back on rate limits and 5xx; other answers are the client's to see.
      if (isLast || !(attempt.rateLimited || attempt.status >= 500))
        return failureResponse(attempt, req.requestId);
    }
    if (lastFailure !== undefined) return failureResponse(lastFailure, req.requestId);
    throw lastError ?? new ModelNotFoundError(`Model '${request.model}' has no target.`);
  }

  async function success(
    req: GatewayRequest,
    route: RouteSpec,
    key: KeyView,
    slug: ModelSlug,
    resolved: ResolvedProvider,
    attempt: UpstreamSuccess,
    hideUsageChunk: boolean,
    stream: boolean,
    outcome: Outcome,
  ): Promise<GatewayResponse> {
    const { response, abort, clearTimer } = attempt;
    const adapter = adapterFor(resolved.config.type);
    const headers = { 'x-request-id': req.requestId };
    const contentType = response.headers.get('content-type') ?? '';
    outcome.status = response.status;
    if (stream && contentType.includes('text/event-stream') && response.body !== null) {
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
          shape: route.shape,
          hideUsageChunk,
          timings: { heartbeatMs: deps.heartbeatMs, idleTimeoutMs: deps.idleTimeoutMs },
          onEnd: async (end) => {
            if (end.error !== undefined) recordFailure(slug.provider, end.error.code);
            await meter(key, slug, end.usage);
            logger.info('stream end', {
              requestId: req.requestId,
              keyId: key.keyId,
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
    await meter(key, slug, adapter.usageFromBody(parsed));
    return {
      status: response.status,
      headers: { ...headers, 'content-type': contentType || 'application/json' },
      body: text,
    };
  }

  async function models(req: GatewayRequest): Promise<GatewayResponse> {
    const presented = presentedKey(req);
    const scope =
      presented === undefined
        ? undefined
        : (await deps.keys.authenticate(presented.keyId, presented.hash)).models;
    const [providers, aliases] = await Promise.all([deps.providers.list(), deps.providers.listAliases()]);
    const created = Math.floor(now() / 1000);
    const entries = providers.flatMap((p) =>
      p.models
        .filter((m) => scope === undefined || modelAllowed(scope, { provider: p.provider, model: m }))
        .map((m) => ({ id: `${p.provider}/${m}`, object: 'model', created, owned_by: p.provider })),
    );
    for (const alias of aliases) {
      const reachable = alias.targets
        .flatMap((t) => parseSlug(t) ?? [])
        .some((t) => scope === undefined || modelAllowed(scope, t));
      if (reachable) entries.push({ id: alias.name, object: 'model', created, owned_by: 'tollgate-alias' });
    }
    return jsonResponse(200, { object: 'list', data: entries }, { 'x-request-id': req.requestId });
  }

  async function health(requestId: string): Promise<GatewayResponse> {
    const providers = await deps.providers.list();
    const healths: Array<ProviderHealth | undefined> = await Promise.all(
      providers.map((p) => deps.usage.health(p.provider)),
    );
    return jsonResponse(
      200,
      {
        status: 'ok',
        providers: providers.map((p, i) => ({
          name: p.provider,
          type: p.type,
          credentials: p.credentials,
          lastError:
            healths[i] === undefined
              ? null
              : {
                  class: healths[i]?.lastErrorClass,
                  status: healths[i]?.lastErrorStatus ?? null,
                  at: healths[i]?.lastErrorAt,
                },
        })),
      },
      { 'x-request-id': requestId, 'cache-control': 'no-store' },
    );
  }

  return {
    async handle(req) {
      const started = now();
      const outcome: Outcome = { status: 0 };
      // API Gateway names the matched resource; a bare path (tests, other front ends) is matched here.
      const byResource = routeForResource(req.method, req.resource);
      const match =
        byResource === undefined
          ? matchRoute(req.method, req.path)
          : { route: byResource, params: req.params };
      const shape: ApiShape = 'route' in match ? match.route.shape : 'openai';
      let response: GatewayResponse;
      try {
        if (!('route' in match)) throw new NotFoundError(req.method, req.path);
        const { route, params } = match;
        if (route.operation === 'health') response = await health(req.requestId);
        else if (route.operation === 'models') response = await models(req);
        else response = await proxied(req, route, params, outcome);
      } catch (err) {
        const gatewayError = toGatewayError(err);
        if (gatewayError.code === 'internal_error') {
          logger.error('unhandled proxy error', {
            requestId: req.requestId,
            error: (err as Error).name,
            message: (err as Error).message,
          });
        }
        response = errorResponse(gatewayError, shape, req.requestId);
      }
      logger.info('request', {
        requestId: req.requestId,
        keyId: req.auth?.keyId,
        route: `${req.method} ${'route' in match ? match.route.path : req.path}`,
        provider: outcome.provider,
        model: outcome.model,
        status: response.status,
        upstreamMs: outcome.upstreamMs,
        durationMs: now() - started,
      });
      return response;
    },
  };
}
