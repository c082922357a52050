/**
 * API Gateway's own responses (before or instead of the proxy), defined once for the stack, which deploys
 * them, and the local gateway, which renders them the way API Gateway does. What AWS documents and this
 * file follows (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
 * …/api-gateway-swagger-extensions-gateway-responses.responseParameters.html, …/responseTemplates.html):
 * - a status set on DEFAULT_4XX/DEFAULT_5XX changes every type without its own response, so the fallbacks
 *   never get one: an integration timeout stays 504, a bad signature 403;
 * - header mappings may only come from the request (`method.request.header|path|querystring.*`), stage
 *   variables or literals — not `$context`, so the request id goes in the body (API Gateway sends its own
 *   `x-amzn-RequestId` header);
 * - templates are not VTL: plain substitution of `$context` variables, and one template per API, not per
 *   path (so `/admin` IAM denials and client routes share a body: see ACCESS_DENIED).
 */

import { CORS_ALLOW_HEADERS, corsHeaders } from '#shared/cors.ts';
import {
  type ErrorCode,
  gatewayErrorBody,
  INVALID_API_KEY_MESSAGE,
  STORAGE_RETRY_AFTER_SECONDS,
} from '#shared/errors.ts';

/** The response types Tollgate customises. */
export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'AUTHORIZER_FAILURE'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'THROTTLED'
  | 'REQUEST_TOO_LARGE'
  | 'INTEGRATION_TIMEOUT'
  | 'INTEGRATION_FAILURE'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

/** One customised gateway response. */
export interface GatewayResponseSpec {
  readonly type: GatewayResponseType;
  /** Status override; absent keeps the status API Gateway gives the type (always absent on the fallbacks). */
  readonly status?: number;
  readonly code: ErrorCode;
  /** A fixed message; absent passes API Gateway's own (`$context.error.messageString`). */
  readonly message?: string;
  /** Literal headers of this type only (mapped as `'value'`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The customised responses. The key authorizer never denies (it answers `Unauthorized`), so ACCESS_DENIED is
 * an IAM refusal on `/admin`: its body is read by management clients (`error.code`, `error.message`) and
 * still parses in every SDK. */
export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  { type: 'UNAUTHORIZED', status: 401, code: 'invalid_api_key', message: INVALID_API_KEY_MESSAGE },
  { type: 'ACCESS_DENIED', status: 403, code: 'forbidden' },
  // The key authorizer's one dependency is storage: when it cannot answer, clients should retry, not give up.
  {
    type: 'AUTHORIZER_FAILURE',
    status: 503,
    code: 'storage_unavailable',
    message: 'The key check is unavailable right now; retry shortly.',
    headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) },
  },
  {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    status: 500,
    code: 'internal_error',
    message: 'The key check failed; try again.',
  },
  // REST APIs answer unknown paths (and unsigned /admin calls) with 403 "Missing Authentication Token".
  {
    type: 'MISSING_AUTHENTICATION_TOKEN',
    status: 404,
    code: 'not_found',
    message: 'No such route (or an unsigned call to the IAM-authorized /admin API).',
  },
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
    type: 'INTEGRATION_TIMEOUT',
    status: 504,
    code: 'upstream_timeout',
    message: 'The gateway timed out waiting for the answer.',
  },
  {
    type: 'INTEGRATION_FAILURE',
    status: 502,
    code: 'upstream_error',
    message: 'The gateway function failed.',
  },
  { type: 'DEFAULT_4XX', code: 'invalid_request' },
  { type: 'DEFAULT_5XX', code: 'internal_error' },
];

/** The spec of one gateway response type. */
export function gatewayResponse(type: GatewayResponseType): GatewayResponseSpec {
  const spec = GATEWAY_RESPONSES.find((candidate) => candidate.type === type);
  if (spec === undefined) throw new Error(`no gateway response ${type}`);
  return spec;
}

const MESSAGE_SLOT = '\u0000message\u0000';

/** The body template API Gateway renders: the client error shape, the request id and, where the spec has no
 * message of its own, API Gateway's (already a quoted JSON string in `$context.error.messageString`). */
export function gatewayResponseTemplate(spec: GatewayResponseSpec): string {
  // Top-level `request_id`, where Anthropic's own error bodies carry it.
  const body = {
    ...gatewayErrorBody(spec.code, spec.message ?? MESSAGE_SLOT),
    request_id: '$context.requestId',
  };
  return JSON.stringify(body).replace(JSON.stringify(MESSAGE_SLOT), '$context.error.messageString');
}

/**
 * Header mappings of every gateway response: the content type and, for browser clients, CORS. A gateway
 * response cannot choose among origins, so one configured origin is sent as a literal and several echo the
 * request's `Origin` (error bodies carry no secret; the proxy's own answers still check the list).
 */
export function gatewayResponseHeaders(corsOrigins: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': "'application/json'" };
  const [only] = corsOrigins;
  if (only === undefined) return headers;
  const cors = corsHeaders(only);
  headers['access-control-allow-origin'] =
    corsOrigins.length === 1 ? `'${only}'` : 'method.request.header.origin';
  for (const [name, value] of Object.entries(cors)) {
    if (name !== 'access-control-allow-origin') headers[name] = `'${value}'`;
  }
  return headers;
}

/**
 * Headers the official SDKs send from browsers, which preflight must allow: the Stainless-generated SDKs
 * (`openai`, `@anthropic-ai/sdk`) add `x-stainless-*` platform headers, and Anthropic's needs its opt-in
 * header. Preflight cannot match a prefix, so the known names are listed and `*` covers new ones (browsers
 * honour `*` for requests without cookies, which SDK calls are; `authorization` is never covered by `*`).
 */
const BROWSER_SDK_HEADERS = [
  'anthropic-dangerous-direct-browser-access',
  'x-stainless-arch',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'x-stainless-helper',
  'x-stainless-helper-method',
  '*',
] as const;

/** The request headers CORS preflight allows: the gateway's own and the SDKs' browser headers. */
export const PREFLIGHT_ALLOW_HEADERS: readonly string[] = [...CORS_ALLOW_HEADERS, ...BROWSER_SDK_HEADERS];

/** What API Gateway sends for one gateway response. */
export interface RenderedGatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The request-side inputs of a rendering. */
export interface GatewayResponseContext {
  requestId: string;
  /** The type's own status, used when the spec has no override (API Gateway's default for the type). */
  defaultStatus: number;
  /** API Gateway's message for the type. */
  awsMessage: string;
  /** Request headers, lower-case names. */
  requestHeaders: Readonly<Record<string, string | undefined>>;
  corsOrigins: readonly string[];
}

/** Renders a gateway response exactly as the deployed mappings and template would (for the local gateway). */
export function renderGatewayResponse(
  spec: GatewayResponseSpec,
  context: GatewayResponseContext,
): RenderedGatewayResponse {
  const headers: Record<string, string> = { 'x-amzn-requestid': context.requestId };
  for (const [name, expression] of Object.entries(gatewayResponseHeaders(context.corsOrigins))) {
    const literal = /^'(.*)'$/.exec(expression);
    const fromHeader = /^method\.request\.header\.(.+)$/.exec(expression);
    const value =
      literal?.[1] ?? (fromHeader?.[1] === undefined ? undefined : context.requestHeaders[fromHeader[1]]);
    if (value !== undefined) headers[name] = value;
  }
  Object.assign(headers, spec.headers);
  const body = gatewayResponseTemplate(spec)
    .replace('$context.error.messageString', JSON.stringify(context.awsMessage))
    .replace('$context.requestId', context.requestId);
  return { status: spec.status ?? context.defaultStatus, headers, body };
}
