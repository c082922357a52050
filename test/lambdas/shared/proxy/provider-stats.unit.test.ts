/** The per-instance statistics counters: no write per request, one per provider and hour per interval. */
import { describe, expect, it } from 'vitest';
import { StatsAccumulator } from '#shared/proxy/provider-stats.ts';
import type { StatsCounts } from '#shared/store/provider-stats.ts';
import { ttfbBucket, ttfbP50 } from '#shared/store/provider-stats.ts';

describe('StatsAccumulator', () => {
  it('writes nothing until the interval has passed, then one write per provider and hour', async () => {
    // Prepare
    let now = Date.parse('2026-11-24T10:59:00Z');
    const writes: Array<{ provider: string; hour: string; counts: StatsCounts }> = [];
    const stats = new StatsAccumulator(
      {
        add: async (provider, hour, counts) =>
          void writes.push({ provider, hour: hour.toISOString(), counts }),
      },
      { flushMs: 60_000, now: () => now },
    );

    // Act
    for (let i = 0; i < 100; i++) stats.note('a', { request: true, ttfbMs: 80 });
    stats.note('a', { rateLimited: true });
    const beforeInterval = writes.length;
    now += 60_000; // 11:00: a new hour, and the interval has passed
    stats.note('b', { request: true, error: true });
    await stats.flush();

    // Assess
    expect(beforeInterval).toBe(0);
    expect(
      writes.map((w) => [w.provider, w.hour, w.counts.requests, w.counts.rateLimited, w.counts.errors]),
    ).toEqual([
      ['a', '2026-11-24T10:00:00.000Z', 100, 1, 0],
      ['b', '2026-11-24T11:00:00.000Z', 1, 0, 1],
    ]);
    expect(writes[0]?.counts.ttfb[ttfbBucket(80)]).toBe(100);
  });
});

describe('ttfbP50', () => {
  it('is the bound of the bucket holding the median, and null without data', () => {
    expect(ttfbP50([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toBeNull();
    expect(ttfbP50([1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0])).toBe(500);
    expect(ttfbP50([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3])).toBe(64_000);
  });
});
