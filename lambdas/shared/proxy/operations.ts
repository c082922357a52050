/**
 * What each client operation needs from a request: the model the client named, whether it streams, the
 * upstream operation, and the body to send upstream. The gateway validates only what it relies on;
 * everything else is the upstream's to judge, so its own 4xx reach the client unchanged.
 */
import { API_SHAPES, type ApiShape } from '../apis.ts';
import { type GatewayError, InvalidRequestError } from '../errors.ts';
import type { UpstreamOperation } from '../providers/types.ts';
import type { RouteOperation } from '../routes.ts';
import { REQUEST_SCHEMAS, validationError } from '../schemas.ts';
import { decodedPathParameter } from './body.ts';
import { frameSse } from './sse.ts';

/** A validated request, ready for model resolution. */
export interface OperationRequest {
  /** The model as the client named it: a slug, a bare id or an alias. */
  model: string;
  stream: boolean;
  upstream: UpstreamOperation;
}

/** The body for the upstream, and whether the gateway added a usage request the client must not see. */
export interface UpstreamPayload {
  body: Record<string, unknown> | undefined;
  hideUsageChunk: boolean;
}

/** One proxied operation. */
export interface OperationSpec {
  read(
    body: Record<string, unknown>,
    params: Record<string, string>,
    query: Record<string, string>,
  ): OperationRequest;
  payload(body: Record<string, unknown>, upstreamModel: string, stream: boolean): UpstreamPayload;
}

/** Validates a body against its operation's schema (the one the OpenAPI document shows). */
function check(operation: RouteOperation, body: Record<string, unknown>): void {
  const schema = REQUEST_SCHEMAS[operation];
  const problem = schema === undefined ? undefined : validationError(schema, body);
  if (problem !== undefined) throw new InvalidRequestError(problem);
}

const withModel = (body: Record<string, unknown>, model: string): UpstreamPayload => ({
  body: { ...body, model },
  hideUsageChunk: false,
});

/** The upstream operation of each Gemini `models/{model}:action`. */
const GEMINI_ACTIONS = {
  generateContent: 'generateContent',
  streamGenerateContent: 'streamGenerateContent',
  countTokens: 'countTokens',
} as const satisfies Record<string, UpstreamOperation>;

/** The proxied operations by route operation. */
export const OPERATIONS: Partial<Record<RouteOperation, OperationSpec>> = {
  chatCompletions: {
    read(body) {
      check('chatCompletions', body);
      return { model: String(body.model), stream: body.stream === true, upstream: 'chatCompletions' };
    },
    payload(body, model, stream) {
      const options = (body.stream_options ?? {}) as Record<string, unknown>;
      if (!stream || options.include_usage === true) return withModel(body, model);
      // Streams report usage only when asked; the gateway asks, and hides that chunk from this client.
      return {
        body: { ...body, model, stream_options: { ...options, include_usage: true } },
        hideUsageChunk: true,
      };
    },
  },
  responses: {
    read(body) {
      check('responses', body);
      return { model: String(body.model), stream: body.stream === true, upstream: 'responses' };
    },
    payload: withModel,
  },
  embeddings: {
    read(body) {
      check('embeddings', body);
      return { model: String(body.model), stream: false, upstream: 'embeddings' };
    },
    payload: withModel,
  },
  messages: {
    read(body) {
      check('messages', body);
      return { model: String(body.model), stream: body.stream === true, upstream: 'messages' };
    },
    payload: withModel,
  },
  countTokens: {
    read(body) {
      check('countTokens', body);
      return { model: String(body.model), stream: false, upstream: 'countTokens' };
    },
    payload: withModel,
  },
  geminiModel: {
    read(body, params, query) {
      const target = decodedPathParameter(params.model ?? '');
      const colon = target.lastIndexOf(':');
      const model = colon > 0 ? target.slice(0, colon) : '';
      const action = target.slice(colon + 1);
      if (model === '' || !Object.hasOwn(GEMINI_ACTIONS, action)) {
        throw new InvalidRequestError(
          'The path must be /v1beta/models/{model} (or /v1/…) with :generateContent, :streamGenerateContent or :countTokens.',
        );
      }
      check('geminiModel', body);
      const upstream = GEMINI_ACTIONS[action as keyof typeof GEMINI_ACTIONS];
      const stream = upstream === 'streamGenerateContent';
      if (stream && query.alt !== 'sse')
        throw new InvalidRequestError('Streaming needs ?alt=sse (server-sent events).');
      return { model, stream, upstream };
    },
    // The model travels in the path; the body is the client's, untouched.
    payload: (body) => ({ body, hideUsageChunk: false }),
  },
};

/** An error after the first byte, framed as the API's own stream error event. */
export function streamErrorEvent(shape: ApiShape, err: GatewayError): string {
  return frameSse({
    event: API_SHAPES[shape].streamErrorEvent,
    data: JSON.stringify(err.toWire(shape)),
  });
}
