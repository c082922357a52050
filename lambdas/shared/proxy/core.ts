/**
 * The proxy's domain logic, free of Lambda and HTTP-server types: validate, admit, resolve the provider,
 * call the upstream and hand back a whole or streamed response. It never throws: every failure becomes
 * a response in the calling API's error shape.
 */
import {
  type ApiShape,
  type GatewayError,
  InvalidApiKeyError,
  InvalidRequestError,
  ModelNotAllowedError,
  ModelNotFoundError,
  NotFoundError,
  NoUpstreamCredentialError,
  RequestTooLargeError,
  toGatewayError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../errors.ts';
import { type GatewayRequest, type GatewayResponse, jsonResponse } from '../http.ts';
import { keyFromHeaders, parseKey } from '../keys.ts';
import { logger } from '../log.ts';
import { adapterFor } from '../providers/index.ts';
import type { Operation, ProviderAdapter } from '../providers/types.ts';
import { matchRoute, type RouteSpec } from '../routes.ts';
import type { KeyStore } from '../store/keys.ts';
import type { ProviderView, ResolvedProvider } from '../store/providers.ts';
import { frameSse, parseSse } from './sse.ts';

/** Where the proxy finds providers; the Lambda wraps the store in a bounded-time cache. */
export interface ProviderSource {
  resolve(name: string): Promise<ResolvedProvider | undefined>;
  list(): Promise<ProviderView[]>;
}

/** Everything the proxy needs from the outside world. */
export interface ProxyDeps {
  keys: KeyStore;
  providers: ProviderSource;
  keyPrefix: string;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
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

/** True when a key whose scope is `patterns` may use `slug` (`*`, `provider/*` or an exact slug). */
export function modelAllowed(patterns: readonly string[], slug: ModelSlug): boolean {
  if (patterns.length === 0) return true;
  const full = `${slug.provider}/${slug.model}`;
  return patterns.some((p) => p === '*' || p === full || p === `${slug.provider}/*` || p === slug.provider);
}

/** Parses a JSON object body within the size limit. */
export function parseJsonObject(body: string | undefined, maxBytes: number): Record<string, unknown> {
  if (body === undefined || body === '')
    throw new InvalidRequestError('The request body is empty; send a JSON object.');
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new RequestTooLargeError(maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Validates what the gateway itself relies on in a chat completion request; the rest is the upstream's. */
export function validateChatRequest(body: Record<string, unknown>): { model: string; stream: boolean } {
  const { model, messages, stream } = body;
  if (typeof model !== 'string' || model === '')
    throw new InvalidRequestError("'model' is required and must be a string.");
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidRequestError("'messages' is required and must be a non-empty array.");
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw new InvalidRequestError("'stream' must be a boolean.");
  }
  return { model, stream: stream === true };
}

interface Outcome {
  status: number;
  provider?: string;
  model?: string;
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

  function errorResponse(err: GatewayError, shape: ApiShape, requestId: string): GatewayResponse {
    return jsonResponse(err.status, err.toWire(shape), { ...err.headers, 'x-request-id': requestId });
  }

  async function health(requestId: string): Promise<GatewayResponse> {
    const providers = await deps.providers.list();
    return jsonResponse(
      200,
      {
        status: 'ok',
        providers: providers.map((p) => ({ name: p.provider, type: p.type, credentials: p.credentials })),
      },
      { 'x-request-id': requestId, 'cache-control': 'no-store' },
    );
  }

  /** Calls the upstream with each credential in turn while the answer is "rate limited". */
  async function callUpstream(
    req: GatewayRequest,
    resolved: ResolvedProvider,
    adapter: ProviderAdapter,
    operation: Operation,
    payload: string,
    outcome: Outcome,
  ): Promise<{ response: Response; abort: AbortController; clearTimer: () => void }> {
    const path = adapter.endpoints[operation];
    if (path === undefined)
      throw new ModelNotFoundError(`Provider '${resolved.config.provider}' does not serve this route.`);
    let last: { response: Response; abort: AbortController; clearTimer: () => void } | undefined;
    for (const credential of resolved.credentials) {
      const abort = new AbortController();
      const onClientGone = (): void => abort.abort(req.signal.reason);
      req.signal.addEventListener('abort', onClientGone, { once: true });
      const timer = setTimeout(() => abort.abort(new UpstreamTimeoutError()), deps.upstreamTimeoutMs);
      const clearTimer = (): void => clearTimeout(timer);
      const started = now();
      let response: Response;
      try {
        response = await doFetch(`${resolved.config.baseUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...adapter.authHeaders(credential.secret),
          },
          body: payload,
          signal: abort.signal,
          // A redirect must never carry the credential to a host the operator did not configure.
          redirect: 'manual',
        });
      } catch (err) {
        clearTimer();
        if (abort.signal.reason instanceof UpstreamTimeoutError) throw abort.signal.reason;
        if (req.signal.aborted) throw new UpstreamError('The client closed the connection.');
        logger.warn('upstream fetch failed', {
          provider: resolved.config.provider,
          error: (err as Error).name,
        });
        throw new UpstreamError('The upstream provider could not be reached.');
      }
      outcome.upstreamMs = now() - started;
      if (response.status >= 300 && response.status < 400) {
        clearTimer();
        await response.body?.cancel();
        throw new UpstreamError('The upstream provider answered with a redirect, which is not followed.');
      }
      if (response.ok) return { response, abort, clearTimer };
      const text = await response.clone().text();
      last = { response, abort, clearTimer };
      if (!adapter.isRateLimited(response.status, text)) break;
      clearTimer();
    }
    if (last === undefined) throw new NoUpstreamCredentialError(resolved.config.provider);
    return last;
  }

  function streamBody(
    upstream: ReadableStream<Uint8Array>,
    adapter: ProviderAdapter,
    abort: AbortController,
    shape: ApiShape,
    onEnd: () => void,
  ): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    const events = parseSse(upstream).getReader();
    const state = { events: 0 };
    let finished = false;
    const finish = (): void => {
      if (!finished) {
        finished = true;
        onEnd();
      }
    };
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            for (;;) {
              const next = await events.read();
              if (next.done) {
                controller.close();
                finish();
                return;
              }
              state.events += 1;
              const out = adapter.transformStreamEvent(next.value, state);
              if (out !== undefined) {
                controller.enqueue(encoder.encode(out));
                return;
              }
            }
          } catch (err) {
            // The status line is already sent: the failure travels in-band, in the API's own error shape.
            const failure =
              abort.signal.reason instanceof UpstreamTimeoutError
                ? abort.signal.reason
                : new UpstreamError('The upstream stream broke off.');
            logger.warn('upstream stream failed', { error: (err as Error).name });
            controller.enqueue(
              encoder.encode(frameSse({ event: 'error', data: JSON.stringify(failure.toWire(shape)) })),
            );
            controller.close();
            finish();
          }
        },
        async cancel(reason) {
          abort.abort(reason);
          await events.cancel(reason).catch(() => undefined);
          finish();
        },
      },
      { highWaterMark: 0 },
    );
  }

  async function chatCompletions(
    req: GatewayRequest,
    route: RouteSpec,
    outcome: Outcome,
  ): Promise<GatewayResponse> {
    const body = parseJsonObject(req.body, deps.maxBodyBytes);
    const { model, stream } = validateChatRequest(body);
    const auth = req.auth;
    const candidate = keyFromHeaders(req.headers);
    const parsed = candidate === undefined ? undefined : parseKey(candidate, deps.keyPrefix);
    if (auth === undefined || parsed === undefined || parsed.keyId !== auth.keyId)
      throw new InvalidApiKeyError();
    await deps.keys.admit(parsed.keyId, parsed.hash);

    const slug = parseSlug(model);
    if (slug === undefined) {
      throw new ModelNotFoundError(
        `Model '${model}' is not a Tollgate slug; use 'provider/model', e.g. 'openai/gpt-4o'.`,
      );
    }
    outcome.provider = slug.provider;
    outcome.model = slug.model;
    if (!modelAllowed(auth.models, slug)) throw new ModelNotAllowedError(model);
    const resolved = await deps.providers.resolve(slug.provider);
    if (resolved === undefined)
      throw new ModelNotFoundError(`No provider named '${slug.provider}' is registered.`);
    if (resolved.credentials.length === 0) throw new NoUpstreamCredentialError(slug.provider);
    const adapter = adapterFor(resolved.config.type);

    const payload = JSON.stringify({ ...body, model: slug.model });
    const { response, abort, clearTimer } = await callUpstream(
      req,
      resolved,
      adapter,
      route.operation as Operation,
      payload,
      outcome,
    );
    const baseHeaders = { 'x-request-id': req.requestId };
    if (!response.ok) {
      const text = await response.text().finally(clearTimer);
      if (response.status >= 500) {
        throw new UpstreamError(`The upstream provider failed with status ${response.status}.`);
      }
      // The upstream's own 4xx (bad parameters, its rate limits) reach the client as they are.
      outcome.status = response.status;
      return {
        status: response.status,
        headers: {
          ...baseHeaders,
          'content-type': response.headers.get('content-type') ?? 'application/json',
        },
        body: text,
      };
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (stream && contentType.includes('text/event-stream') && response.body !== null) {
      // Timeouts past the first byte belong to the idle-timeout logic, not to the first-byte timer.
      clearTimer();
      outcome.status = 200;
      return {
        status: 200,
        headers: {
          ...baseHeaders,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        },
        body: streamBody(response.body, adapter, abort, route.shape, () => undefined),
      };
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw abort.signal.reason instanceof UpstreamTimeoutError
        ? abort.signal.reason
        : new UpstreamError('The upstream answer broke off.');
    } finally {
      clearTimer();
    }
    outcome.status = 200;
    return {
      status: 200,
      headers: { ...baseHeaders, 'content-type': contentType || 'application/json' },
      body: text,
    };
  }

  return {
    async handle(req) {
      const started = now();
      const outcome: Outcome = { status: 0 };
      const match = matchRoute(req.method, req.resource);
      const shape: ApiShape = 'route' in match ? match.route.shape : 'openai';
      let response: GatewayResponse;
      try {
        if (!('route' in match)) throw new NotFoundError(req.method, req.path);
        const { route } = match;
        switch (route.operation) {
          case 'health':
            response = await health(req.requestId);
            break;
          case 'chatCompletions':
            response = await chatCompletions(req, route, outcome);
            break;
        }
      } catch (err) {
        const gatewayError = toGatewayError(err);
        if (gatewayError.status >= 500 && gatewayError.code === 'internal_error') {
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
        route: `${req.method} ${req.resource}`,
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
