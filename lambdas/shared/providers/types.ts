/** The interface every upstream provider adapter implements. Handlers never branch on a provider's name. */
import type { ApiShape } from '../errors.ts';

/** What the gateway asks of an upstream. */
export type UpstreamOperation =
  | 'chatCompletions'
  | 'responses'
  | 'embeddings'
  | 'messages'
  | 'countTokens'
  | 'generateContent'
  | 'streamGenerateContent';

/** One server-sent event as parsed from the upstream. */
export interface SseEvent {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}

/** Tokens an answer used, as the upstream reported them. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Per-stream state a transform keeps between events. */
export interface StreamState {
  events: number;
  /** Content-bearing events passed to the client: what a client that leaves early is billed for. */
  contentEvents: number;
  /** Filled in from the upstream's usage reports as they arrive. */
  usage: Usage | undefined;
  /** True when the gateway itself asked for a usage chunk the client did not request: drop it. */
  hideUsageChunk: boolean;
}

/** What one upstream stream event says for billing. */
export interface EventReading {
  /** It carries content: what a client that leaves before the usage report is billed for. */
  content: boolean;
  /** The usage so far it reports, which replaces any an earlier event reported. */
  usage?: Usage | undefined;
  /** Not the client's to see (the usage chunk the gateway asked for on its behalf): dropped when still held. */
  drop?: boolean;
}

/** An upstream served by the gateway itself. */
export interface InProcessUpstream {
  serve(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  readonly baseUrl: string;
}

/** How an upstream lists its models: the first page's path and how to read a page. */
export interface ModelListing {
  /** Path and query of the first page, appended to the base URL. */
  readonly path: string;
  /** The page's model ids, and the query to append for the next page when there is one. */
  read(body: unknown): { ids: string[]; next?: string | undefined };
}

/** An upstream API, described as data plus pure functions. */
export interface ProviderAdapter {
  /** The `type` an operator registers a provider with. */
  readonly type: string;
  /** The client-facing API this provider speaks natively; clients of other APIs are not routed to it. */
  readonly api: ApiShape;
  /** Every client-facing API it answers, when more than its native {@link api}. */
  readonly apis?: readonly ApiShape[];
  /**
   * Set for a provider answered inside the gateway: `serve` stands in for the upstream `fetch`, no
   * credential is needed, and `baseUrl` is the one it is registered with.
   */
  readonly inProcess?: InProcessUpstream;
  /** Path and query appended to the operator's `baseUrl`, or undefined if the operation is not served. */
  path(operation: UpstreamOperation, model: string): string | undefined;
  /** An authenticated, free GET used by `tollgate status --check` to test a credential. */
  readonly probePath: string;
  /** Its models list endpoint, from which `providers add` without `--models` discovers the catalogue. */
  readonly modelList?: ModelListing;
  /** Headers that carry the upstream credential. */
  authHeaders(credential: string): Record<string, string>;
  /** Client headers passed upstream (lower-case names), each with its default when the client sent none. */
  readonly forwardHeaders: Readonly<Record<string, string | undefined>>;
  /** True when a failure means "this credential is rate limited or out of quota: try the next one". */
  isRateLimited(status: number, body: string): boolean;
  /** Token usage in a whole (non-streamed) answer. */
  usageFromBody(body: unknown): Usage | undefined;
  /**
   * What one upstream SSE event says for billing, from its data parsed as JSON (undefined when it is not
   * JSON, e.g. `[DONE]`). The data of a very large event is a skeleton of it: its strings cut short (never
   * to empty), its usage numbers whole (see json-skeleton.ts). Pure: the proxy records the reading.
   */
  readStreamEvent(data: unknown, state: Readonly<StreamState>): EventReading;
}

/** Reads a number at a path of plain objects; undefined when absent. */
export function numberAt(value: unknown, ...path: string[]): number | undefined {
  let current: unknown = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'number' && Number.isFinite(current) ? current : undefined;
}

/** JSON.parse that yields undefined instead of throwing. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The objects of the array at `key` of a JSON body (an absent or malformed list is empty). */
export function listOf(body: unknown, key: string): Array<Record<string, unknown>> {
  const list = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(list)
    ? list.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    : [];
}
