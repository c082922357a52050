/**
 * The route table: the single source of truth for which paths exist, which need a key and which API's
 * error shape they answer in. The CDK stack builds API Gateway resources from it, the local gateway
 * matches requests with it, and the proxy dispatches on it.
 */
import { type ApiShape, type ErrorCode, INVALID_API_KEY_MESSAGE } from './errors.ts';

/** What the proxy does for a route. */
export type RouteOperation = 'chatCompletions' | 'health';

/** `key`: the Lambda authorizer runs first; `none`: public. */
export type RouteAuth = 'key' | 'none';

/** One HTTP route of the client API. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path. */
  readonly path: string;
  readonly auth: RouteAuth;
  readonly operation: RouteOperation;
  readonly shape: ApiShape;
}

export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/chat/completions',
    auth: 'key',
    operation: 'chatCompletions',
    shape: 'openai',
  },
  { method: 'GET', path: '/health', auth: 'none', operation: 'health', shape: 'openai' },
];

/** The route for a method and path, or why there is none. */
export type RouteMatch = { route: RouteSpec } | { error: 'not_found' | 'method_not_allowed' };

/** Matches a concrete request path against {@link ROUTES}. */
export function matchRoute(method: string, path: string): RouteMatch {
  const candidates = ROUTES.filter((route) => route.path === path);
  const route = candidates.find((candidate) => candidate.method === method.toUpperCase());
  if (route !== undefined) return { route };
  return { error: candidates.length > 0 ? 'method_not_allowed' : 'not_found' };
}

/** The route an API Gateway event's resource and method name, if any. */
export function routeForResource(method: string, resource: string): RouteSpec | undefined {
  return ROUTES.find((route) => route.path === resource && route.method === method.toUpperCase());
}

/** API Gateway's own responses (before or instead of the proxy), rewritten into the client API's shape. */
export interface GatewayResponseSpec {
  readonly type:
    | 'UNAUTHORIZED'
    | 'ACCESS_DENIED'
    | 'AUTHORIZER_FAILURE'
    | 'AUTHORIZER_CONFIGURATION_ERROR'
    | 'MISSING_AUTHENTICATION_TOKEN'
    | 'THROTTLED'
    | 'REQUEST_TOO_LARGE'
    | 'DEFAULT_4XX'
    | 'DEFAULT_5XX';
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  { type: 'UNAUTHORIZED', status: 401, code: 'invalid_api_key', message: INVALID_API_KEY_MESSAGE },
  { type: 'ACCESS_DENIED', status: 401, code: 'invalid_api_key', message: INVALID_API_KEY_MESSAGE },
  {
    type: 'AUTHORIZER_FAILURE',
    status: 500,
    code: 'internal_error',
    message: 'The key check failed; try again.',
  },
  {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    status: 500,
    code: 'internal_error',
    message: 'The key check failed; try again.',
  },
  // REST APIs answer unknown paths with a 403 "Missing Authentication Token"; clients expect a 404.
  { type: 'MISSING_AUTHENTICATION_TOKEN', status: 404, code: 'not_found', message: 'No such route.' },
  {
    type: 'THROTTLED',
    status: 429,
    code: 'rate_limited',
    message: 'The gateway is throttling requests; retry shortly.',
  },
  {
    type: 'REQUEST_TOO_LARGE',
    status: 413,
    code: 'request_too_large',
    message: 'The request body is too large.',
  },
  {
    type: 'DEFAULT_4XX',
    status: 400,
    code: 'invalid_request',
    message: 'The request was refused by the gateway.',
  },
  { type: 'DEFAULT_5XX', status: 500, code: 'internal_error', message: 'Internal gateway error.' },
];

/** The spec of one gateway response type. */
export function gatewayResponse(type: GatewayResponseSpec['type']): GatewayResponseSpec {
  const spec = GATEWAY_RESPONSES.find((candidate) => candidate.type === type);
  if (spec === undefined) throw new Error(`no gateway response ${type}`);
  return spec;
}
