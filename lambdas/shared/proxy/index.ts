/**
 * The proxy, free of Lambda and HTTP-server types: match the route, run its handler (see `dispatch.ts`),
 * and answer. It never throws: every failure becomes a response in the calling API's error shape. Each
 * request is logged once and counted in the metrics; allowed browser origins get CORS headers.
 */

import { type ApiShape, DEFAULT_API_SHAPE } from '../apis.ts';
import { corsHeaders } from '../cors.ts';
import { NotFoundError, toGatewayError } from '../errors.ts';
import type { GatewayRequest, GatewayResponse } from '../http.ts';
import { logger } from '../log.ts';
import { matchRoute, proxyChecksKey, requestShape, routeForResource } from '../routes.ts';
import { requireKey } from './caller.ts';
import { type Outcome, type ProxyDeps, proxyRuntime } from './context.ts';
import { ROUTE_HANDLERS } from './dispatch.ts';
import { errorResponse } from './response.ts';

export type { ProviderSource, ProxyDeps, ProxyTimings } from './context.ts';

/** The proxy: one `handle` per request. */
export interface GatewayProxy {
  handle(req: GatewayRequest): Promise<GatewayResponse>;
}

/** Builds the proxy over its dependencies. */
export function createProxy(deps: ProxyDeps): GatewayProxy {
  const rt = proxyRuntime(deps);
  return {
    async handle(req) {
      const started = rt.now();
      const outcome: Outcome = {};
      // API Gateway names the matched resource; a bare path (tests, other front ends) is matched here.
      const byResource = routeForResource(req.method, req.resource);
      const match =
        byResource === undefined
          ? matchRoute(req.method, req.path)
          : { route: byResource, params: req.params };
      const shape: ApiShape = 'route' in match ? requestShape(match.route, req) : DEFAULT_API_SHAPE;
      let response: GatewayResponse;
      let errorCode: string | undefined;
      try {
        if (!('route' in match)) throw new NotFoundError(req.method, req.path);
        // What no authorizer refused must not reach a handler without a key: a 401, as the authorizer's.
        if (proxyChecksKey(match.route)) await requireKey(deps, req);
        const view = deps.configForRequest?.();
        const callRt = view === undefined ? rt : { ...rt, deps: { ...deps, ...view } };
        response = await ROUTE_HANDLERS[match.route.operation](callRt, req, match, outcome);
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
        keyId: req.auth?.keyId ?? outcome.keyId,
        route: routeName,
        provider: outcome.provider,
        model: outcome.model,
        status: response.status,
        upstreamMs: outcome.upstreamMs,
        durationMs: rt.now() - started,
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
