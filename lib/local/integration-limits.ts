/**
 * The integration limits API Gateway and Lambda enforce, enforced locally so nothing passes here that fails
 * there (values and sources in lib/aws-limits.ts): a streamed integration ends after 15 minutes and a stream
 * that sends nothing for 5 minutes is closed; a buffered one answers 504 after 29 s; an event over Lambda's
 * synchronous payload is refused. Time comes from a {@link GatewayClock}, so tests fire the limits instead
 * of waiting for them.
 */
import { AWS_LIMITS } from '../aws-limits.ts';

/** Schedules `fire` after `ms`; returns a cancel function. */
export interface GatewayClock {
  after(ms: number, fire: () => void): () => void;
}

/** Real time. Timers do not keep the process alive. */
export const realClock: GatewayClock = {
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** The limits the local gateway enforces; tests may scale them. */
export interface IntegrationLimits {
  streamedIntegrationTimeoutMs: number;
  bufferedIntegrationTimeoutMs: number;
  regionalStreamIdleMs: number;
  lambdaSyncPayloadBytes: number;
}

/** AWS's limits, with any overrides. */
export function integrationLimits(overrides: Partial<IntegrationLimits> = {}): IntegrationLimits {
  return {
    streamedIntegrationTimeoutMs: AWS_LIMITS.streamedIntegrationTimeoutMs,
    bufferedIntegrationTimeoutMs: AWS_LIMITS.bufferedIntegrationTimeoutMs,
    regionalStreamIdleMs: AWS_LIMITS.regionalStreamIdleMs,
    lambdaSyncPayloadBytes: AWS_LIMITS.lambdaSyncPayloadBytes,
    ...overrides,
  };
}

/** True when an event is too large for a synchronous invocation (Lambda counts the serialized JSON). */
export function exceedsPayload(event: unknown, limits: IntegrationLimits): boolean {
  return Buffer.byteLength(JSON.stringify(event)) > limits.lambdaSyncPayloadBytes;
}

/** Which limit ended a streamed integration. */
export type StreamLimit = 'integration' | 'idle';

/** Watches one streamed integration: its total time and the silence since its last byte. */
export interface StreamWatch {
  /** A byte went out: the idle limit starts again. */
  touch(): void;
  stop(): void;
}

/** Starts watching a streamed integration; `expire` is called once, with the limit that ended it. */
export function watchStream(
  clock: GatewayClock,
  limits: IntegrationLimits,
  expire: (limit: StreamLimit) => void,
): StreamWatch {
  let done = false;
  const end = (limit: StreamLimit) => {
    if (done) return;
    done = true;
    cancelIdle();
    cancelTotal();
    expire(limit);
  };
  const cancelTotal = clock.after(limits.streamedIntegrationTimeoutMs, () => end('integration'));
  let cancelIdle = clock.after(limits.regionalStreamIdleMs, () => end('idle'));
  return {
    touch() {
      if (done) return;
      cancelIdle();
      cancelIdle = clock.after(limits.regionalStreamIdleMs, () => end('idle'));
    },
    stop() {
      done = true;
      cancelIdle();
      cancelTotal();
    },
  };
}

/** Runs a buffered integration within its timeout: `undefined` when API Gateway would have given up. */
export async function withinBufferedTimeout<T>(
  clock: GatewayClock,
  limits: IntegrationLimits,
  work: Promise<T>,
): Promise<T | undefined> {
  let cancel = (): void => undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    cancel = clock.after(limits.bufferedIntegrationTimeoutMs, () => resolve(undefined));
  });
  try {
    return await Promise.race([timedOut, work]);
  } finally {
    cancel();
  }
}
