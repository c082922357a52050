/**
 * What an instance remembers of full shards: a shortcut kept within a bound, however many months, keys and
 * minutes a warm instance sees.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReserveSpec } from '#shared/store/counters.ts';
import type { DocumentDb } from '#shared/store/db.ts';
import { placeOnSplit, type SplitContext, type SplitPlan } from '#shared/store/split-placement.ts';

/** A plan of two shards that both refuse, with no read of their room (so no database is needed). */
function refusingPlan(subject: string): SplitPlan {
  return {
    subject,
    shards: 2,
    spec: (pk) => ({
      table: 'usage',
      counter: { pk, sk: 'month#2026-05', micros: 100, tokens: 0, kind: 'key', receipt: 'r_1' },
      cap: 50,
    }),
    fits: () => true,
    refusal: () => new Error('over the limit'),
  };
}

function context(fullShards: SplitContext['fullShards']): SplitContext {
  return {
    db: {} as DocumentDb,
    table: 'usage',
    random: () => 0,
    fullShards,
    place: async (_spec: ReserveSpec, full: Error) => {
      throw full;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('full shards an instance remembers', () => {
  it('grow with each refusal until 10,000, then start over rather than grow further', async () => {
    // Prepare: one entry short of the bound, then at it.
    const entries = (n: number) =>
      new Map(Array.from({ length: n }, (_, i) => [`other#${i}`, { until: Date.now() + 1000, size: 1 }]));
    const below = entries(9_999);
    const at = entries(10_000);

    // Act
    await expect(placeOnSplit(context(below), refusingPlan('key#a'))).rejects.toThrow('over the limit');
    await expect(placeOnSplit(context(at), refusingPlan('key#b'))).rejects.toThrow('over the limit');

    // Assess: below the bound the refused shard was added; at it, the map was emptied first.
    expect(below.size).toBe(10_000);
    expect([...at.keys()]).toEqual([expect.stringContaining('key#b')]);
  });

  it('skip a remembered shard for as large a request: the next one tries another, then none is written', async () => {
    // Prepare: the clock stands still, so the three requests fall within the second a refusal is kept.
    vi.useFakeTimers({ toFake: ['Date'] });
    const fullShards: SplitContext['fullShards'] = new Map();
    const placed: string[] = [];
    const ctx = {
      ...context(fullShards),
      place: async (spec: ReserveSpec, full: Error) => {
        placed.push(spec.counter.pk);
        throw full;
      },
    };

    // Act: three requests, each refused.
    for (let i = 0; i < 3; i++)
      await expect(placeOnSplit(ctx, refusingPlan('key#c'))).rejects.toThrow('over the limit');

    // Assess: each shard was written once; the third request wrote none.
    expect(placed).toEqual(['key#c', 'key#c#1']);
  });
});
