/**
 * The client APIs Tollgate speaks, as data: for each, the error body its SDKs parse, how an error is
 * framed once a stream has started, where its clients carry the key, its OpenAPI error schema, and
 * whether it sends bare model ids. Code asks the registry; nothing else branches on an API's name.
 */
/** One error, in the terms an API shape renders. */
export interface WireError {
  status: number;
  /** The Tollgate error code. */
  code: string;
  /** The error's name in this API's vocabulary (see the error catalogue). */
  type: string;
  message: string;
}

/** One place a client may carry its key, as an OpenAPI security scheme. */
export interface KeyCarrier {
  readonly in: 'header' | 'query';
  /** Header name (lower-case) or query parameter. */
  readonly name: string;
  /** `Authorization: Bearer <key>` rather than the bare key. */
  readonly bearer?: boolean;
  readonly description?: string;
}

/**
 * Every key carrier, by OpenAPI security-scheme name, in the order a request's carriers are read: the
 * first present wins.
 */
export const KEY_CARRIERS = {
  bearer: {
    in: 'header',
    name: 'authorization',
    bearer: true,
    description: 'A Tollgate key: Authorization: Bearer sk-tg-…',
  },
  anthropicApiKey: { in: 'header', name: 'x-api-key' },
  googApiKey: { in: 'header', name: 'x-goog-api-key' },
  googQueryKey: { in: 'query', name: 'key' },
} as const satisfies Record<string, KeyCarrier>;

export type KeyCarrierName = keyof typeof KEY_CARRIERS;

/** One client API's wire conventions. */
export interface ApiShapeSpec {
  /** The error body its SDKs parse into their native error classes. */
  errorBody(error: WireError): Record<string, unknown>;
  /** The SSE `event:` name of an error sent after the first byte; undefined sends a bare `data:` event. */
  readonly streamErrorEvent: string | undefined;
  /** Where its clients carry the key on routes that accept any carrier (OpenAPI security schemes). */
  readonly carriers: readonly KeyCarrierName[];
  /** Its error body in the OpenAPI document. */
  readonly errorSchema: {
    readonly name: string;
    readonly required: readonly string[];
    readonly properties: Record<string, unknown>;
  };
  /**
   * Its SDKs send bare model ids (`claude-…`, `gemini-…`): a bare id that is neither a slug nor an alias
   * goes to the first provider speaking this API.
   */
  readonly bareModels: boolean;
  /**
   * Request headers and query parameters only this API's SDKs send: on routes every SDK calls
   * (`GET /v1/models`), their presence says which API's shape to answer in.
   */
  readonly announcedBy: { readonly headers: readonly string[]; readonly query: readonly string[] };
}

export const API_SHAPES = {
  openai: {
    errorBody: (e) => ({ error: { message: e.message, type: e.type, param: null, code: e.code } }),
    streamErrorEvent: undefined,
    // The gateway's own routes answer in OpenAI's shape and are called by Anthropic SDKs too
    // (`models.list` sends `x-api-key`).
    carriers: ['bearer', 'anthropicApiKey'],
    errorSchema: {
      name: 'OpenAIError',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          properties: {
            message: { type: 'string' },
            type: { type: 'string' },
            param: {},
            code: { type: 'string' },
          },
        },
      },
    },
    bareModels: false,
    announcedBy: { headers: [], query: [] },
  },
  anthropic: {
    errorBody: (e) => ({ type: 'error', error: { type: e.type, message: e.message } }),
    streamErrorEvent: 'error',
    carriers: ['bearer', 'anthropicApiKey'],
    errorSchema: {
      name: 'AnthropicError',
      required: ['type', 'error'],
      properties: {
        type: { const: 'error' },
        error: { type: 'object', properties: { type: { type: 'string' }, message: { type: 'string' } } },
      },
    },
    bareModels: true,
    announcedBy: { headers: ['anthropic-version'], query: [] },
  },
  gemini: {
    errorBody: (e) => ({ error: { code: e.status, message: e.message, status: e.type } }),
    streamErrorEvent: undefined,
    carriers: ['bearer', 'googApiKey', 'googQueryKey'],
    errorSchema: {
      name: 'GeminiError',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          properties: { code: { type: 'integer' }, message: { type: 'string' }, status: { type: 'string' } },
        },
      },
    },
    bareModels: true,
    announcedBy: { headers: ['x-goog-api-key', 'x-goog-api-client'], query: ['key'] },
  },
} as const satisfies Record<string, ApiShapeSpec>;

/** The client-facing API whose wire format a response must follow. */
export type ApiShape = keyof typeof API_SHAPES;

/** Every API shape's name, in registry order. */
export const API_SHAPE_NAMES = Object.keys(API_SHAPES) as ApiShape[];

/** The API shape answering requests that match no route. */
export const DEFAULT_API_SHAPE: ApiShape = 'openai';
