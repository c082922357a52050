/**
 * The route table: the single source of truth for which paths exist, which need a key and which API's
 * error shape they answer in. The CDK stack builds API Gateway resources from it, the local gateway
 * matches requests with it, and the proxy dispatches on it.
 */
import { API_SHAPE_NAMES, API_SHAPES, type ApiShape } from './apis.ts';

/** What the proxy does for a route. */
export type RouteOperation =
  | 'chatCompletions'
  | 'responses'
  | 'embeddings'
  | 'messages'
  | 'countTokens'
  | 'geminiModel'
  | 'models'
  | 'model'
  | 'keyInfo'
  | 'usage'
  | 'usageRequests'
  | 'health'
  | 'providerStats'
  | 'analytics'
  | 'openapi'
  | 'docs';

/**
 * `key`: a valid key is required (checked by the authorizer or the proxy: see {@link KEY_CHECKED_BY});
 * `optional`: no authorizer, a key is checked if sent; `none`: public.
 */
export type RouteAuth = 'key' | 'optional' | 'none';

/**
 * Where clients of a route carry their key. API Gateway ANDs a REQUEST authorizer's identity sources and
 * cannot cache an authorizer without one, so only `bearer` routes (OpenAI clients) can use an authorizer
 * keyed on `Authorization`, cached. `any` routes (Anthropic: `x-api-key` or Bearer; Gemini:
 * `x-goog-api-key`, `?key=` or Bearer) have no API Gateway authorizer: the proxy authenticates them itself
 * (see {@link KEY_CHECKED_BY}), so the coding tools' hot path pays no authorizer invocation per request.
 */
export type Carriers = 'bearer' | 'any';

/**
 * Who checks the key of an `auth: 'key'` route: API Gateway's cached Lambda authorizer, or the proxy
 * (a per-instance cache of the same check, held to the key and team at admission as the authorizer's is).
 */
export const KEY_CHECKED_BY = { bearer: 'authorizer', any: 'proxy' } as const satisfies Record<
  Carriers,
  'authorizer' | 'proxy'
>;

/** True when API Gateway runs the Lambda authorizer before the route's integration. */
export function hasAuthorizer(route: Pick<RouteSpec, 'auth' | 'carriers'>): boolean {
  return route.auth === 'key' && KEY_CHECKED_BY[route.carriers] === 'authorizer';
}

/** True when the proxy must authenticate the route's key itself. */
export function proxyChecksKey(route: Pick<RouteSpec, 'auth' | 'carriers'>): boolean {
  return route.auth === 'key' && KEY_CHECKED_BY[route.carriers] === 'proxy';
}

/** One HTTP route of the client API. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path; `{name+}` is a greedy parameter. */
  readonly path: string;
  readonly auth: RouteAuth;
  readonly carriers: Carriers;
  readonly operation: RouteOperation;
  readonly shape: ApiShape;
  /**
   * Every SDK calls this path (`GET /v1/models` is OpenAI's, Anthropic's and Gemini v1's list), so the
   * answer and its errors follow the API the request's headers reveal, `shape` being the default.
   */
  readonly negotiated?: true;
}

export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/chat/completions',
    auth: 'key',
    carriers: 'bearer',
    operation: 'chatCompletions',
    shape: 'openai',
  },
  {
    method: 'POST',
    path: '/v1/responses',
    auth: 'key',
    carriers: 'bearer',
    operation: 'responses',
    shape: 'openai',
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    auth: 'key',
    carriers: 'bearer',
    operation: 'embeddings',
    shape: 'openai',
  },
  {
    method: 'POST',
    path: '/v1/messages',
    auth: 'key',
    carriers: 'any',
    operation: 'messages',
    shape: 'anthropic',
  },
  {
    method: 'POST',
    path: '/v1/messages/count_tokens',
    auth: 'key',
    carriers: 'any',
    operation: 'countTokens',
    shape: 'anthropic',
  },
  // Gemini SDKs default to `v1` (@google/genai) or `v1beta`; both serve the same models.
  ...(['v1', 'v1beta'] as const).map(
    (version): RouteSpec => ({
      method: 'POST',
      path: `/${version}/models/{model+}`,
      auth: 'key',
      carriers: 'any',
      operation: 'geminiModel',
      shape: 'gemini',
    }),
  ),
  {
    method: 'GET',
    path: '/v1/models',
    auth: 'optional',
    carriers: 'any',
    operation: 'models',
    shape: 'openai',
    negotiated: true,
  },
  {
    method: 'GET',
    path: '/v1/models/{model+}',
    auth: 'optional',
    carriers: 'any',
    operation: 'model',
    shape: 'openai',
    negotiated: true,
  },
  {
    method: 'GET',
    path: '/v1beta/models',
    auth: 'key',
    carriers: 'any',
    operation: 'models',
    shape: 'gemini',
  },
  {
    method: 'GET',
    path: '/v1beta/models/{model+}',
    auth: 'key',
    carriers: 'any',
    operation: 'model',
    shape: 'gemini',
  },
  { method: 'GET', path: '/v1/key', auth: 'key', carriers: 'any', operation: 'keyInfo', shape: 'openai' },
  { method: 'GET', path: '/v1/usage', auth: 'key', carriers: 'any', operation: 'usage', shape: 'openai' },
  {
    method: 'GET',
    path: '/v1/usage/requests',
    auth: 'key',
    carriers: 'any',
    operation: 'usageRequests',
    shape: 'openai',
  },
  { method: 'GET', path: '/health', auth: 'none', carriers: 'any', operation: 'health', shape: 'openai' },
  {
    method: 'GET',
    path: '/v1/stats/providers',
    auth: 'none',
    carriers: 'any',
    operation: 'providerStats',
    shape: 'openai',
  },
  {
    method: 'GET',
    path: '/v1/analytics',
    auth: 'none',
    carriers: 'any',
    operation: 'analytics',
    shape: 'openai',
  },
  {
    method: 'GET',
    path: '/openapi.json',
    auth: 'none',
    carriers: 'any',
    operation: 'openapi',
    shape: 'openai',
  },
  { method: 'GET', path: '/docs', auth: 'none', carriers: 'any', operation: 'docs', shape: 'openai' },
];

/** The API shape a request answers in: its route's, or on a negotiated route the one its SDK announces. */
export function requestShape(
  route: RouteSpec,
  req: { headers: Readonly<Record<string, string>>; query: Readonly<Record<string, string>> },
): ApiShape {
  if (route.negotiated !== true) return route.shape;
  const announced = API_SHAPE_NAMES.find((name) => {
    const { headers, query } = API_SHAPES[name].announcedBy;
    return headers.some((h) => req.headers[h] !== undefined) || query.some((q) => req.query[q] !== undefined);
  });
  return announced ?? route.shape;
}

/** The route for a method and path with its path parameters, or why there is none. */
export type RouteMatch =
  | { route: RouteSpec; params: Record<string, string> }
  | { error: 'not_found' | 'method_not_allowed' };

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const greedy = /^(.*)\{(\w+)\+\}$/.exec(pattern);
  if (greedy?.[1] !== undefined && greedy[2] !== undefined) {
    if (!path.startsWith(greedy[1]) || path.length === greedy[1].length) return undefined;
    return { [greedy[2]]: path.slice(greedy[1].length) };
  }
  return pattern === path ? {} : undefined;
}

/** The route an API Gateway event's method and resource name, if any. */
export function routeForResource(method: string, resource: string): RouteSpec | undefined {
  return ROUTES.find((route) => route.path === resource && route.method === method.toUpperCase());
}

/** Matches a concrete request path against {@link ROUTES}, exact paths before greedy ones. */
export function matchRoute(method: string, path: string): RouteMatch {
  const candidates = ROUTES.flatMap((route) => {
    const params = matchPath(route.path, path);
    return params === undefined ? [] : [{ route, params }];
  });
  const found = candidates.find((candidate) => candidate.route.method === method.toUpperCase());
  if (found !== undefined) return found;
  return { error: candidates.length > 0 ? 'method_not_allowed' : 'not_found' };
}
