/** The interface every upstream provider adapter implements. Handlers never branch on a provider's name. */
import type { ApiShape } from '../errors.ts';

/** The gateway operations an adapter may serve. */
export type Operation = 'chatCompletions';

/** One server-sent event as parsed from the upstream. */
export interface SseEvent {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}

/** Per-stream state a transform may keep between events. */
export interface StreamState {
  /** Events seen so far. */
  events: number;
}

/** An upstream API, described as data plus pure functions. */
export interface ProviderAdapter {
  /** The `type` an operator registers a provider with. */
  readonly type: string;
  /** The client-facing API this provider speaks natively. */
  readonly api: ApiShape;
  /** Operations served, mapped to the path appended to the operator's `baseUrl`. */
  readonly endpoints: Readonly<Partial<Record<Operation, string>>>;
  /** Headers that carry the upstream credential. */
  authHeaders(credential: string): Record<string, string>;
  /** True when an upstream failure means "this credential is rate limited, try the next one". */
  isRateLimited(status: number, body: string): boolean;
  /**
   * Maps one upstream SSE event to the text to forward (already framed), or `undefined` to drop it.
   * Pure: everything it remembers lives in `state`.
   */
  transformStreamEvent(event: SseEvent, state: StreamState): string | undefined;
}
