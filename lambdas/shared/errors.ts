/**
 * Gateway errors. Each error knows its HTTP status, its Tollgate code and how to render itself in the
 * error shape of the API the client called, so SDKs raise their native error classes.
 */

import { API_SHAPES, type ApiShape, DEFAULT_API_SHAPE } from './apis.ts';

export type { ApiShape } from './apis.ts';

/** An error's status, and its name in each API's vocabulary (OpenAI's `error.type`, Anthropic's `error.type`, Gemini's google.rpc `error.status`). */
type ErrorSpec = { status: number } & Record<ApiShape, string>;

/** The error codes of DESIGN.md, with their status and their name in each API's vocabulary. */
export const ERROR_CATALOGUE = {
  invalid_request: {
    status: 400,
    openai: 'invalid_request_error',
    anthropic: 'invalid_request_error',
    gemini: 'INVALID_ARGUMENT',
  },
  invalid_api_key: {
    status: 401,
    openai: 'invalid_request_error',
    anthropic: 'authentication_error',
    gemini: 'UNAUTHENTICATED',
  },
  api_key_quota_exceeded: {
    status: 402,
    openai: 'insufficient_quota',
    anthropic: 'billing_error',
    gemini: 'RESOURCE_EXHAUSTED',
  },
  billing_shortfall: {
    status: 402,
    openai: 'insufficient_quota',
    anthropic: 'billing_error',
    gemini: 'RESOURCE_EXHAUSTED',
  },
  model_not_allowed: {
    status: 403,
    openai: 'invalid_request_error',
    anthropic: 'permission_error',
    gemini: 'PERMISSION_DENIED',
  },
  model_not_priced: {
    status: 403,
    openai: 'invalid_request_error',
    anthropic: 'permission_error',
    gemini: 'PERMISSION_DENIED',
  },
  forbidden: {
    status: 403,
    openai: 'invalid_request_error',
    anthropic: 'permission_error',
    gemini: 'PERMISSION_DENIED',
  },
  not_found: {
    status: 404,
    openai: 'invalid_request_error',
    anthropic: 'not_found_error',
    gemini: 'NOT_FOUND',
  },
  model_not_found: {
    status: 404,
    openai: 'invalid_request_error',
    anthropic: 'not_found_error',
    gemini: 'NOT_FOUND',
  },
  method_not_allowed: {
    status: 405,
    openai: 'invalid_request_error',
    anthropic: 'invalid_request_error',
    gemini: 'INVALID_ARGUMENT',
  },
  request_too_large: {
    status: 413,
    openai: 'invalid_request_error',
    anthropic: 'request_too_large',
    gemini: 'INVALID_ARGUMENT',
  },
  rate_limited: {
    status: 429,
    openai: 'rate_limit_exceeded',
    anthropic: 'rate_limit_error',
    gemini: 'RESOURCE_EXHAUSTED',
  },
  internal_error: { status: 500, openai: 'server_error', anthropic: 'api_error', gemini: 'INTERNAL' },
  upstream_error: { status: 502, openai: 'server_error', anthropic: 'api_error', gemini: 'UNAVAILABLE' },
  upstream_credential_rejected: {
    status: 502,
    openai: 'server_error',
    anthropic: 'api_error',
    gemini: 'UNAVAILABLE',
  },
  no_upstream_credential: {
    status: 503,
    openai: 'server_error',
    anthropic: 'overloaded_error',
    gemini: 'UNAVAILABLE',
  },
  storage_unavailable: {
    status: 503,
    openai: 'server_error',
    anthropic: 'api_error',
    gemini: 'UNAVAILABLE',
  },
  upstream_timeout: { status: 504, openai: 'timeout', anthropic: 'api_error', gemini: 'DEADLINE_EXCEEDED' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Renders an error body in one API's shape; shared by errors thrown in code and gateway responses. */
export function errorBody(shape: ApiShape, code: ErrorCode, message: string): Record<string, unknown> {
  const spec: ErrorSpec = ERROR_CATALOGUE[code];
  return API_SHAPES[shape].errorBody({ status: spec.status, code, type: spec[shape], message });
}

/**
 * The body of API Gateway's own error responses (401 from the authorizer, unknown routes, throttling).
 * API Gateway renders one template per API, without conditionals, for every route, so this one body
 * carries each SDK family's fields at once: OpenAI's `error.code`, Anthropic's `type` and `error.type`,
 * Gemini's `error.status`. Every SDK picks its error class from the HTTP status and finds its fields.
 */
export function gatewayErrorBody(code: ErrorCode, message: string): Record<string, unknown> {
  const spec: ErrorSpec = ERROR_CATALOGUE[code];
  return { type: 'error', error: { type: spec.anthropic, code, message, status: spec.gemini } };
}

/**
 * Base class of every error a client may see. The message must be safe to show: it never contains a
 * key, a credential or a stack trace.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After` on 429. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.headers = headers;
  }

  /** The error body in the given API's shape; `requestId` is for bodies that carry it. */
  toWire(shape: ApiShape, _requestId?: string): Record<string, unknown> {
    return errorBody(shape, this.code, this.message);
  }

  toJSON(): Record<string, unknown> {
    return errorBody(DEFAULT_API_SHAPE, this.code, this.message);
  }
}

/** 400: the request cannot be parsed or is missing what the route needs. */
export class InvalidRequestError extends GatewayError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/** The one message every key refusal uses, so responses never reveal why a key was refused. */
export const INVALID_API_KEY_MESSAGE = 'Invalid API key. Check the Tollgate key you sent.';

/** 401: missing, malformed, unknown, disabled, expired or rotated-away key (one body for all). */
export class InvalidApiKeyError extends GatewayError {
  constructor() {
    super('invalid_api_key', INVALID_API_KEY_MESSAGE);
  }

  /**
   * API Gateway's own 401 (the authorizer's refusal) cannot vary by route, so every refusal of a key — by
   * the authorizer, or by the proxy (a key revoked while the authorizer's Allow is cached, an optional-key
   * route) — answers with that one body, whatever the route's API: a client cannot tell who refused it.
   */
  override toWire(_shape: ApiShape, requestId?: string): Record<string, unknown> {
    // API Gateway's template adds the request id after the body's fields; so does this.
    return {
      ...gatewayErrorBody(this.code, this.message),
      ...(requestId === undefined ? {} : { request_id: requestId }),
    };
  }
}

/** 403: the model or provider lies outside the key's scope. */
export class ModelNotAllowedError extends GatewayError {
  constructor(model: string) {
    super('model_not_allowed', `This key may not use the model '${model}'.`);
  }
}

/**
 * 403: the model has no price and the caller has a spend limit, which unpriced use could not be counted
 * against; the operator sets a price or a default price.
 */
export class ModelNotPricedError extends GatewayError {
  constructor(model: string) {
    super(
      'model_not_priced',
      `The model '${model}' has no price, and this key's spending is limited: ask the operator to set its price (tollgate models price) or a default price (tollgate settings default-price).`,
    );
  }
}

/** 404: no registered provider serves the slug. */
export class ModelNotFoundError extends GatewayError {
  constructor(message: string) {
    super('model_not_found', message);
  }
}

/** 404: no route at that path. */
export class NotFoundError extends GatewayError {
  constructor(method: string, path: string) {
    super('not_found', `No route for ${method} ${path}.`);
  }
}

/** 413: the body exceeds the configured limit. */
export class RequestTooLargeError extends GatewayError {
  constructor(limit: number) {
    super('request_too_large', `Request body exceeds the limit of ${limit} bytes.`);
  }
}

/** 502: the upstream failed (5xx, broken connection, unreadable answer). */
export class UpstreamError extends GatewayError {
  constructor(message: string) {
    super('upstream_error', message);
  }
}

/**
 * 502: the upstream refused the operator's credential (401/403). Not the client's `invalid_api_key`: the
 * client's key was fine, and an SDK that sees 401 would tell its user to fix the wrong key.
 */
export class UpstreamCredentialRejectedError extends GatewayError {
  constructor(provider: string, status: number) {
    super(
      'upstream_credential_rejected',
      `The upstream provider '${provider}' refused the gateway's credential (status ${status}); the operator must fix it.`,
    );
  }
}

/** 504: the upstream did not answer in time. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(message = 'The upstream provider did not answer in time.') {
    super('upstream_timeout', message);
  }
}

/** 503: the provider exists but has no credential registered. */
export class NoUpstreamCredentialError extends GatewayError {
  /** `which` narrows the message, e.g. to the credentials a key is bound to. */
  constructor(provider: string, which?: string) {
    super(
      'no_upstream_credential',
      which === undefined
        ? `No credential is registered for provider '${provider}'.`
        : `No credential ${which} is registered for provider '${provider}'.`,
    );
  }
}

/** Seconds a client is asked to wait before retrying while storage is unavailable. */
export const STORAGE_RETRY_AFTER_SECONDS = 1;

/**
 * 503: the gateway's storage (DynamoDB) cannot be reached or refuses for now (throttling, a service
 * error). Nothing was decided about the request; it may be retried after `Retry-After`.
 */
export class StorageUnavailableError extends GatewayError {
  constructor(options?: ErrorOptions) {
    super('storage_unavailable', 'The gateway cannot reach its storage right now; retry shortly.', {
      'retry-after': String(STORAGE_RETRY_AFTER_SECONDS),
    });
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** 500: anything unexpected. The cause is logged, never shown. */
export class InternalError extends GatewayError {
  constructor() {
    super('internal_error', 'Internal gateway error.');
  }
}

/** Maps anything thrown to a client-safe {@link GatewayError}. */
export function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new InternalError();
}
