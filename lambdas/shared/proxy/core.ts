/**
 * The proxy's domain logic, free of Lambda and HTTP-server types: validate, admit, resolve the model to
 * provider targets, call the upstream (credential failover, alias fallback) and hand back a whole or
 * streamed response. It never throws: every failure becomes a response in the calling API's error shape.
 */

import { identifyKey } from '../auth.ts';
import { DOCS_PAGE } from '../docs-page.ts';
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
import { keyFromRequest } from '../keys.ts';
import { logger } from '../log.ts';
import type { MetricsSink } from '../metrics.ts';
import { openApiDocument } from '../openapi.ts';
import { adapterFor, apiOf } from '../providers/index.ts';
import type { Usage } from '../providers/types.ts';
import { matchRoute, type RouteSpec, routeForResource } from '../routes.ts';
import type { KeyStore } from '../store/keys.ts';
import type { Admission, Meter } from '../store/metering.ts';
import type { Alias, ModelPrice, ProviderView, ResolvedProvider } from '../store/providers.ts';
import type { RequestLogStore } from '../store/request-log.ts';
import type { TeamStore } from '../store/teams.ts';
import type { ProviderHealth, UsageStore } from '../store/usage.ts';
import { parseJsonObject } from './body.ts';
import {
  costMicros,
  DEFAULT_OUTPUT_RESERVATION,
  estimateInputTokens,
  microsToUsd,
  requestedOutputCap,
} from './estimate.ts';
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
  teams: Pick<TeamStore, 'get'>;
  providers: ProviderSource;
  usage: Pick<UsageStore, 'record' | 'recordFailure' | 'health' | 'forKey'>;
  meter: Pick<Meter, 'admit' | 'settle' | 'monthSpend' | 'minuteUsage'>;
  requestLog: Pick<RequestLogStore, 'put' | 'get'>;
  /** Browser origins allowed to read responses (CORS); preflight is answered in front of the proxy. */
  corsOrigins?: readonly string[];
  /** Where request and upstream metrics go (EMF in Lambda). */
  metrics?: MetricsSink;
  /** Imported keys' hashes to key ids (cached by the caller). */
  importedKeys: () => Promise<Record<string, string>>;
  keyPrefix: string;
  maxBodyBytes: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The API's version in the OpenAPI document. */
export const API_VERSION = '0.1.0';

/** CORS headers for an allowed origin; shared with the preflight answers in front of the proxy. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    vary: 'origin',
    'access-control-expose-headers':
      'x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
  };
}

/** The request headers browsers may send, for preflight answers. */
export const CORS_ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-goog-api-key',
  'anthropic-version',
  'anthropic-beta',
];

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
  model?: string;
  provider?: string;
  upstreamMs?: number;
}

/** How a proxied request ended, for settlement and the request log. */
interface Ending {
  status: number;
  slug?: ModelSlug;
  price?: ModelPrice | undefined;
  usage?: Usage | undefined;
  disconnected?: boolean;
  firstByteAt?: number | undefined;
  /** Time until the upstream's response headers. */
  upstreamMs?: number | undefined;
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

  /** The key a request carries, identified without I/O; undefined when it carries none. */
  async function presentedKey(req: GatewayRequest): Promise<{ keyId: string; hash: string } | undefined> {
    const candidate = keyFromRequest(req.headers, req.query);
    if (candidate === undefined) return undefined;
    const identified = await identifyKey(candidate, deps.keyPrefix, deps.importedKeys);
    if (identified === undefined) throw new InvalidApiKeyError();
    return identified;
  }

  /** The presented key, which must be the one the authorizer checked. */
  async function requireKey(req: GatewayRequest): Promise<{ keyId: string; hash: string }> {
    const presented = await presentedKey(req);
    if (presented === undefined || (req.auth !== undefined && presented.keyId !== req.auth.keyId))
      throw new InvalidApiKeyError();
    return presented;
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

  /**
   * Settles the reservation with the actual cost, counts usage and writes the request log. Runs once per
   * admitted request, whatever its end; its own failures are logged, never shown to the client.
   */
  function settler(req: GatewayRequest, route: RouteSpec, admission: Admission, started: number) {
    let done = false;
    return async (end: Ending): Promise<void> => {
      if (done) return;
      done = true;
      const usage = end.usage;
      const micros = usage === undefined ? 0 : costMicros(usage, end.price);
      try {
        await deps.meter.settle(
          admission,
          micros,
          usage === undefined ? 0 : usage.inputTokens + usage.outputTokens,
        );
        if (usage !== undefined && end.slug !== undefined) {
          await deps.usage.record(
            admission.keyId,
            `${end.slug.provider}/${end.slug.model}`,
            usage,
            new Date(started),
          );
        }
        await deps.requestLog.put({
          requestId: req.requestId,
          keyId: admission.keyId,
          ...(admission.teamId === undefined ? {} : { teamId: admission.teamId }),
          route: `${req.method} ${route.path}`,
          ...(end.slug === undefined
            ? {}
            : { model: `${end.slug.provider}/${end.slug.model}`, provider: end.slug.provider }),
          status: end.status,
          inputTokens: usage?.inputTokens ?? 0,
          outputTokens: usage?.outputTokens ?? 0,
          costMicros: micros,
          ...(end.firstByteAt === undefined ? {} : { ttfbMs: end.firstByteAt - started }),
          durationMs: now() - started,
          disconnected: end.disconnected === true,
          at: new Date(started).toISOString(),
        });
        if (end.slug !== undefined && usage !== undefined) {
          deps.metrics?.upstream({
            provider: end.slug.provider,
            model: end.slug.model,
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            costMicros: micros,
            ttfbMs: end.firstByteAt === undefined ? undefined : end.firstByteAt - started,
            upstreamMs: end.upstreamMs,
          });
        }
      } catch (err) {
        logger.error('settlement failed', {
          requestId: req.requestId,
          keyId: admission.keyId,
          error: (err as Error).name,
        });
      }
    };
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
    const presented = await requireKey(req);
    const auth = req.auth;
    if (auth === undefined) throw new InvalidApiKeyError();
    outcome.model = request.model;

    let allowed: ModelSlug[];
    try {
      const targets = await targetsFor(request.model, route.shape);
      allowed = targets.filter((t) => modelAllowed(auth.models, t));
      if (allowed.length === 0) throw new ModelNotAllowedError(request.model);
    } catch (err) {
      // Revocation wins over every other answer: a revoked key learns nothing about models.
      await deps.keys.authenticate(presented.keyId, presented.hash);
      throw err;
    }

    // One round trip re-checks the key and its team and reserves the estimated cost and tokens.
    const views = await deps.providers.list();
    const priceOf = (slug: ModelSlug): ModelPrice | undefined =>
      views.find((p) => p.provider === slug.provider)?.prices[slug.model];
    const inputEstimate = estimateInputTokens(req.body);
    const outputEstimate =
      requestedOutputCap(body) ??
      (request.upstream === 'embeddings' || request.upstream === 'countTokens'
        ? 0
        : DEFAULT_OUTPUT_RESERVATION);
    const estimate = { inputTokens: inputEstimate, outputTokens: outputEstimate };
    const started = now();
    const admission = await deps.meter.admit({
      keyId: presented.keyId,
      hash: presented.hash,
      teamId: auth.teamId,
      limits: auth.limits,
      estimateMicros: Math.max(0, ...allowed.map((t) => costMicros(estimate, priceOf(t)))),
      estimateTokens: inputEstimate + outputEstimate,
      at: new Date(started),
    });
    const finish = settler(req, route, admission, started);
    try {
      const response = await dispatch(
        req,
        route,
        operation,
        body,
        request,
        allowed,
        priceOf,
        finish,
        inputEstimate,
        outcome,
      );
      return response;
    } catch (err) {
      await finish({ status: toGatewayError(err).status });
      throw err;
    }
  }

  async function dispatch(
    req: GatewayRequest,
    route: RouteSpec,
    operation: NonNullable<(typeof OPERATIONS)[keyof typeof OPERATIONS]>,
    body: Record<string, unknown>,
    request: OperationRequest,
    allowed: ModelSlug[],
    priceOf: (slug: ModelSlug) => ModelPrice | undefined,
    finish: (end: Ending) => Promise<void>,
    inputEstimate: number,
    outcome: Outcome,
  ): Promise<GatewayResponse> {
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
          slug,
          priceOf(slug),
          resolved,
          attempt,
          payload.hideUsageChunk,
          request.stream,
          outcome,
          finish,
          inputEstimate,
        );
      }
      // A client's own mistake (400, 404, 422) says nothing about the provider's health.
      const providerFault = attempt.status === 401 || attempt.status === 403 || attempt.status >= 500;
      if (!attempt.rateLimited && providerFault)
        recordFailure(slug.provider, `upstream_${attempt.status}`, attempt.status);
      lastFailure = attempt;
      lastError = undefined;
      // Aliases fall back on rate limits and 5xx; other answers are the client's to see.
      if (isLast || !(attempt.rateLimited || attempt.status >= 500)) {
        const response = failureResponse(attempt, req.requestId);
        await finish({ status: response.status, slug });
        return response;
      }
    }
    if (lastFailure !== undefined) {
      const response = failureResponse(lastFailure, req.requestId);
      await finish({ status: response.status });
      return response;
    }
    throw lastError ?? new ModelNotFoundError(`Model '${request.model}' has no target.`);
  }

  async function success(
    req: GatewayRequest,
    route: RouteSpec,
    slug: ModelSlug,
    price: ModelPrice | undefined,
    resolved: ResolvedProvider,
    attempt: UpstreamSuccess,
    hideUsageChunk: boolean,
    stream: boolean,
    outcome: Outcome,
    finish: (end: Ending) => Promise<void>,
    inputEstimate: number,
  ): Promise<GatewayResponse> {
    const { response, abort, clearTimer } = attempt;
    const adapter = adapterFor(resolved.config.type);
    const headers = { 'x-request-id': req.requestId };
    const contentType = response.headers.get('content-type') ?? '';
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
            // A client that leaves before the usage report is billed for the content it was sent.
            const usage =
              end.disconnected || end.usage === undefined
                ? {
                    inputTokens: end.usage?.inputTokens ?? inputEstimate,
                    outputTokens: Math.max(end.usage?.outputTokens ?? 0, end.contentEvents),
                  }
                : end.usage;
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
      firstByteAt: now(),
      upstreamMs: outcome.upstreamMs,
    });
    return {
      status: response.status,
      headers: { ...headers, 'content-type': contentType || 'application/json' },
      body: text,
    };
  }

  async function models(req: GatewayRequest): Promise<GatewayResponse> {
    const presented = await presentedKey(req);
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

  /** `GET /v1/key`: this key's own name, team, scope, limits, spend this month and rate-limit state. */
  async function keyInfo(req: GatewayRequest): Promise<GatewayResponse> {
    const presented = await requireKey(req);
    const key = await deps.keys.authenticate(presented.keyId, presented.hash);
    const at = new Date(now());
    const [team, spend, minute] = await Promise.all([
      key.teamId === undefined ? undefined : deps.teams.get(key.teamId),
      deps.meter.monthSpend(`key#${key.keyId}`, at),
      deps.meter.minuteUsage(key.keyId, at),
    ]);
    const teamSpend = team === undefined ? undefined : await deps.meter.monthSpend(`team#${team.teamId}`, at);
    const usd = (micros: number | undefined): number | null =>
      micros === undefined ? null : microsToUsd(micros);
    return jsonResponse(
      200,
      {
        id: key.keyId,
        name: key.name,
        status: key.status,
        expires_at: key.expiresAt ?? null,
        models: key.models,
        team:
          team === undefined
            ? null
            : {
                id: team.teamId,
                name: team.name,
                status: team.status,
                budget_usd: usd(team.budgetMicros),
                spent_usd: usd(teamSpend?.spentMicros),
              },
        limits: { monthly_usd: usd(key.monthlyLimitMicros), rpm: key.rpm ?? null, tpm: key.tpm ?? null },
        spend: {
          month: spend.month,
          spent_usd: usd(spend.spentMicros),
          reserved_usd: usd(spend.reservedMicros),
        },
        rate_limit: {
          requests_this_minute: minute.requests,
          tokens_this_minute: minute.tokens,
          remaining_requests: key.rpm === undefined ? null : Math.max(0, key.rpm - minute.requests),
          remaining_tokens: key.tpm === undefined ? null : Math.max(0, key.tpm - minute.tokens),
          reset_seconds: minute.resetSeconds,
        },
      },
      { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
    );
  }

  /** `GET /v1/usage`: this key's usage by day and model, or one of its requests by `?request_id=`. */
  async function usageReport(req: GatewayRequest): Promise<GatewayResponse> {
    const presented = await requireKey(req);
    const key = await deps.keys.authenticate(presented.keyId, presented.hash);
    const requestId = req.query.request_id;
    if (requestId !== undefined) {
      const entry = await deps.requestLog.get(requestId);
      // Another key's request is as absent as a request that never was.
      if (entry === undefined || entry.keyId !== key.keyId)
        throw new NotFoundError('GET', `/v1/usage?request_id=${encodeURIComponent(requestId)}`);
      return jsonResponse(
        200,
        { ...entry, cost_usd: microsToUsd(entry.costMicros) },
        { 'x-request-id': req.requestId },
      );
    }
    const rows = await deps.usage.forKey(key.keyId);
    return jsonResponse(
      200,
      { object: 'list', key_id: key.keyId, data: rows },
      { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
    );
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
      const outcome: Outcome = {};
      // API Gateway names the matched resource; a bare path (tests, other front ends) is matched here.
      const byResource = routeForResource(req.method, req.resource);
      const match =
        byResource === undefined
          ? matchRoute(req.method, req.path)
          : { route: byResource, params: req.params };
      const shape: ApiShape = 'route' in match ? match.route.shape : 'openai';
      let response: GatewayResponse;
      let errorCode: string | undefined;
      try {
        if (!('route' in match)) throw new NotFoundError(req.method, req.path);
        const { route, params } = match;
        if (route.operation === 'health') response = await health(req.requestId);
        else if (route.operation === 'models') response = await models(req);
        else if (route.operation === 'keyInfo') response = await keyInfo(req);
        else if (route.operation === 'usage') response = await usageReport(req);
        else if (route.operation === 'openapi')
          response = jsonResponse(200, openApiDocument(API_VERSION), { 'x-request-id': req.requestId });
        else if (route.operation === 'docs') {
          response = {
            status: 200,
            // Everything the page needs is inline; nothing may load from elsewhere.
            headers: {
              'content-type': 'text/html; charset=utf-8',
              'content-security-policy':
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
              'x-request-id': req.requestId,
            },
            body: DOCS_PAGE,
          };
        } else response = await proxied(req, route, params, outcome);
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
        errorCode = gatewayError.code;
      }
      // Unknown paths are one dimension value, not one per path a scanner tries.
      const routeName = `${req.method} ${'route' in match ? match.route.path : '(unknown)'}`;
      logger.info('request', {
        requestId: req.requestId,
        keyId: req.auth?.keyId,
        route: routeName,
        provider: outcome.provider,
        model: outcome.model,
        status: response.status,
        upstreamMs: outcome.upstreamMs,
        durationMs: now() - started,
      });
      const origin = req.headers.origin;
      if (origin !== undefined && (deps.corsOrigins ?? []).includes(origin))
        Object.assign(response.headers, corsHeaders(origin));
      // An upstream's own 4xx passed through has no Tollgate code: it is counted by its status.
      const code = response.status >= 400 ? (errorCode ?? `upstream_${response.status}`) : undefined;
      deps.metrics?.request({ route: routeName, status: response.status, code });
      return response;
    },
  };
}
