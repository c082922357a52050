/**
 * The streamed response body: upstream SSE events re-framed one by one as they arrive (never buffered
 * whole, never coalesced; a very large event streamed piece by piece, see sse-relay.ts), SSE comment
 * heartbeats while the upstream is silent, an idle timeout, usage captured from the events, and failures
 * after the first byte sent in-band in the API's own format. Cancelling the body (the client left) aborts
 * the upstream request at once.
 */

import type { ApiShape } from '../errors.ts';
import { type GatewayError, UpstreamError, UpstreamTimeoutError } from '../errors.ts';
import { logger } from '../log.ts';
import type { ProviderAdapter, StreamState, Usage } from '../providers/types.ts';
import { streamErrorEvent } from './operations.ts';
import { type RelayMeter, SseRelay } from './sse-relay.ts';

/** Timing of a stream. */
export interface StreamTimings {
  /** Silence after which a heartbeat comment is sent. */
  heartbeatMs: number;
  /** Silence after which the upstream is given up on. */
  idleTimeoutMs: number;
}

/** How a stream ended, for metering and the request log. */
export interface StreamOutcome {
  usage: Usage | undefined;
  /** Content events delivered, for billing a client that left before the usage report. */
  contentEvents: number;
  /** When the first byte went to the client (ms since epoch), if any did. */
  firstByteAt: number | undefined;
  /** True when the client went away before the end. */
  disconnected: boolean;
  error: GatewayError | undefined;
}

const TICK = Symbol('tick');

/** Records what the adapter reads of each event in `state`; an event partly sent counts for its content. */
export function streamMeter(adapter: ProviderAdapter, state: StreamState): RelayMeter {
  return {
    event(data) {
      state.events += 1;
      const reading = adapter.readStreamEvent(data, state);
      if (reading.content) state.contentEvents += 1;
      if (reading.usage !== undefined) state.usage = reading.usage;
      return reading.drop !== true;
    },
    partial(data) {
      if (adapter.readStreamEvent(data, state).content) state.contentEvents += 1;
    },
  };
}

/** Builds the client-facing body over an upstream SSE body. `onEnd` runs once, before the body closes. */
export function streamBody(options: {
  upstream: ReadableStream<Uint8Array>;
  adapter: ProviderAdapter;
  abort: AbortController;
  shape: ApiShape;
  hideUsageChunk: boolean;
  timings: StreamTimings;
  onEnd: (outcome: StreamOutcome) => Promise<void>;
}): ReadableStream<Uint8Array> {
  const { adapter, abort, shape, timings } = options;
  const encoder = new TextEncoder();
  const text = options.upstream.pipeThrough(new TextDecoderStream()).getReader();
  const state: StreamState = {
    events: 0,
    contentEvents: 0,
    usage: undefined,
    hideUsageChunk: options.hideUsageChunk,
  };
  const relay = new SseRelay(streamMeter(adapter, state));
  let firstByteAt: number | undefined;
  let pending: ReturnType<ReadableStreamDefaultReader<string>['read']> | undefined;
  let lastEventAt = Date.now();
  let ended = false;

  /** Settles the stream once; returns what closes a partly sent event before an error event goes out. */
  const end = async (outcome: Pick<StreamOutcome, 'disconnected' | 'error'>): Promise<string> => {
    if (ended) return '';
    ended = true;
    const closer = relay.cut();
    try {
      await options.onEnd({
        ...outcome,
        usage: state.usage,
        contentEvents: state.contentEvents,
        firstByteAt,
      });
    } catch (err) {
      logger.error('stream end hook failed', { error: (err as Error).name });
    }
    return closer;
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const out = relay.take();
            if (out !== undefined) {
              firstByteAt ??= Date.now();
              controller.enqueue(encoder.encode(out));
              return;
            }
            pending ??= text.read();
            let timer: NodeJS.Timeout | undefined;
            const tick = new Promise<typeof TICK>((resolve) => {
              timer = setTimeout(() => resolve(TICK), timings.heartbeatMs);
            });
            const next = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
            if (next === TICK) {
              if (Date.now() - lastEventAt >= timings.idleTimeoutMs) {
                abort.abort(new UpstreamTimeoutError('The upstream provider went silent.'));
                throw abort.signal.reason;
              }
              // A comment keeps proxies and clients between here and the user from closing an idle stream;
              // none fits in the middle of a line of a large event being streamed.
              const heartbeat = relay.heartbeat();
              if (heartbeat === '') continue;
              controller.enqueue(encoder.encode(heartbeat));
              return;
            }
            pending = undefined;
            if (next.done) {
              await end({ disconnected: false, error: undefined });
              controller.close();
              return;
            }
            // Only events (or pieces of one) are signs of life: comments alone do not hold off the timeout.
            if (relay.push(next.value) > 0) lastEventAt = Date.now();
          }
        } catch (err) {
          if (abort.signal.aborted && !(abort.signal.reason instanceof UpstreamTimeoutError)) {
            // The client left (its signal aborted the upstream read): bill what it received, as on cancel.
            await end({ disconnected: true, error: undefined });
            try {
              controller.close();
            } catch {
              // Already cancelled by the consumer.
            }
            return;
          }
          const failure =
            abort.signal.reason instanceof UpstreamTimeoutError
              ? abort.signal.reason
              : new UpstreamError('The upstream stream broke off.');
          logger.warn('upstream stream failed', { error: (err as Error).name });
          const closer = await end({ disconnected: false, error: failure });
          controller.enqueue(encoder.encode(closer + streamErrorEvent(shape, failure)));
          controller.close();
        }
      },
      async cancel(reason) {
        abort.abort(reason);
        // Settle before anything else can stall: the client is gone and what it received is known.
        await end({ disconnected: true, error: undefined });
        text.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
