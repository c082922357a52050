/**
 * What each client operation needs from a request: the model the client named, whether it streams, the
 * upstream operation, and the body to send upstream. The gateway validates only what it relies on;
 * everything else is the upstream's to judge, so its own 4xx reach the client unchanged.
 */
import { type ApiShape, type GatewayError, InvalidRequestError } from '../errors.ts';
import type { UpstreamOperation } from '../providers/types.ts';
import type { RouteOperation } from '../routes.ts';
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
interface OperationSpec {
  read(
    body: Record<string, unknown>,
    params: Record<string, string>,
    query: Record<string, string>,
  ): OperationRequest;
  payload(body: Record<string, unknown>, upstreamModel: string, stream: boolean): UpstreamPayload;
}

function requireModel(body: Record<string, unknown>): string {
  const { model } = body;
  if (typeof model !== 'string' || model.trim() === '')
    throw new InvalidRequestError("'model' is required and must be a string.");
  return model;
}

function requireNonEmptyArray(body: Record<string, unknown>, field: string): void {
  const value = body[field];
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError(`'${field}' is required and must be a non-empty array.`);
  }
}

function readStream(body: Record<string, unknown>): boolean {
  const { stream } = body;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    throw new InvalidRequestError("'stream' must be a boolean.");
  return stream === true;
}

const withModel = (body: Record<string, unknown>, model: string): UpstreamPayload => ({
  body: { ...body, model },
  hideUsageChunk: false,
});

const GEMINI_ACTIONS = {
  generateContent: 'generateContent',
  streamGenerateContent: 'streamGenerateContent',
} as const;

/** The proxied operations by route operation. */
export const OPERATIONS: Partial<Record<RouteOperation, OperationSpec>> = {
  chatCompletions: {
    read(body) {
      const model = requireModel(body);
      requireNonEmptyArray(body, 'messages');
      return { model, stream: readStream(body), upstream: 'chatCompletions' };
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
      const model = requireModel(body);
      if (body.input === undefined || body.input === null)
        throw new InvalidRequestError("'input' is required.");
      return { model, stream: readStream(body), upstream: 'responses' };
    },
    payload: withModel,
  },
  embeddings: {
    read(body) {
      const model = requireModel(body);
      if (body.input === undefined || body.input === null)
        throw new InvalidRequestError("'input' is required.");
      return { model, stream: false, upstream: 'embeddings' };
    },
    payload: withModel,
  },
  messages: {
    read(body) {
      const model = requireModel(body);
      requireNonEmptyArray(body, 'messages');
      return { model, stream: readStream(body), upstream: 'messages' };
    },
    payload: withModel,
  },
  countTokens: {
    read(body) {
      const model = requireModel(body);
      requireNonEmptyArray(body, 'messages');
      return { model, stream: false, upstream: 'countTokens' };
    },
    payload: withModel,
  },
  geminiModel: {
    read(body, params, query) {
      const target = decodeURIComponent(params.model ?? '');
      const colon = target.lastIndexOf(':');
      const model = colon > 0 ? target.slice(0, colon) : '';
      const action = target.slice(colon + 1);
      if (model === '' || !Object.hasOwn(GEMINI_ACTIONS, action)) {
        throw new InvalidRequestError(
          'The path must be /v1beta/models/{model}:generateContent or :streamGenerateContent.',
        );
      }
      requireNonEmptyArray(body, 'contents');
      const stream = action === 'streamGenerateContent';
      if (stream && query.alt !== 'sse')
        throw new InvalidRequestError('Streaming needs ?alt=sse (server-sent events).');
      return { model, stream, upstream: stream ? 'streamGenerateContent' : 'generateContent' };
    },
    // The model travels in the path; the body is the client's, untouched.
    payload: (body) => ({ body, hideUsageChunk: false }),
  },
};

/** An error after the first byte, framed as the API's own stream error event. */
export function streamErrorEvent(shape: ApiShape, err: GatewayError): string {
  return frameSse({
    event: shape === 'anthropic' ? 'error' : undefined,
    data: JSON.stringify(err.toWire(shape)),
  });
}
