/**
 * What a proxy instance counts per provider between flushes: each upstream call's outcome adds to memory,
 * and at most every `flushMs` the counts go to the store in one write per provider and hour. A request
 * never waits for it, and an instance that is reclaimed loses at most one interval's counts — a bounded
 * undercount, documented, in exchange for no write per request.
 */
import { logger } from '../log.ts';
import {
  emptyCounts,
  type ProviderStatsStore,
  type StatsCounts,
  ttfbBucket,
} from '../store/provider-stats.ts';

/** One provider's counts over the last hour and day, as the statistics routes serve them. */
export interface ProviderFigures {
  provider: string;
  type: string;
  hour: StatsCounts;
  day: StatsCounts;
}

/** One upstream call's outcome as the statistics see it. */
export interface StatsEvent {
  /** A request answered (or failed) by the provider. */
  request?: boolean;
  rateLimited?: boolean;
  /** The upstream failed: 5xx, unreachable, timed out, or refused the operator's credential. */
  error?: boolean;
  /** Time to the upstream's response headers. */
  ttfbMs?: number;
}

/** Per-instance counters with a time-bounded flush. */
export class StatsAccumulator {
  private readonly store: Pick<ProviderStatsStore, 'add'>;
  private readonly flushMs: number;
  private readonly now: () => number;
  private pending = new Map<string, { provider: string; hour: Date; counts: StatsCounts }>();
  private lastFlush: number;
  /** The writes under way, so a reader of the statistics can wait for this instance's own. */
  private inflight: Promise<void> = Promise.resolve();

  constructor(store: Pick<ProviderStatsStore, 'add'>, options: { flushMs: number; now: () => number }) {
    this.store = store;
    this.flushMs = options.flushMs;
    this.now = options.now;
    this.lastFlush = options.now();
  }

  /** Counts one event, and flushes when the interval has passed. */
  note(provider: string, event: StatsEvent): void {
    const at = this.now();
    const hour = new Date(at - (at % 3_600_000));
    const key = `${provider}\u0000${hour.toISOString()}`;
    const entry = this.pending.get(key) ?? { provider, hour, counts: emptyCounts() };
    this.pending.set(key, entry);
    const { counts } = entry;
    if (event.request === true) counts.requests += 1;
    if (event.rateLimited === true) counts.rateLimited += 1;
    if (event.error === true) counts.errors += 1;
    if (event.ttfbMs !== undefined) {
      const bucket = ttfbBucket(event.ttfbMs);
      counts.ttfb[bucket] = (counts.ttfb[bucket] ?? 0) + 1;
    }
    if (at - this.lastFlush >= this.flushMs) void this.flush();
  }

  /**
   * Writes what was counted, after the writes already under way; a failed write is logged and its counts
   * dropped (statistics, not billing).
   */
  flush(): Promise<void> {
    this.lastFlush = this.now();
    const entries = [...this.pending.values()];
    this.pending = new Map();
    const previous = this.inflight;
    this.inflight = previous.then(() => this.write(entries));
    return this.inflight;
  }

  private async write(entries: Array<{ provider: string; hour: Date; counts: StatsCounts }>): Promise<void> {
    await Promise.all(
      entries.map((e) =>
        this.store.add(e.provider, e.hour, e.counts).catch((err: unknown) => {
          logger.warn('could not record provider statistics', { error: (err as Error).name });
        }),
      ),
    );
  }
}
