/**
 * How a sharded budget is split and walked: slices that add up, orders that cover every shard once, and a
 * split change that gives up after its rounds rather than retrying forever.
 */
import { describe, expect, it } from 'vitest';
import { changeSplit, type SplitUpdate, shardOrder, shuffled, sliceOf } from '#shared/store/shards.ts';

/** A deterministic stand-in for Math.random, cycling through `values`. */
const cycling = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('shards', () => {
  it('split a budget into slices that add up to it exactly', () => {
    const slices = Array.from({ length: 7 }, (_, i) => sliceOf(1_000_003, i, 7));
    expect(slices.reduce((a, b) => a + b, 0)).toBe(1_000_003);
    expect(Math.max(...slices) - Math.min(...slices)).toBeLessThanOrEqual(1);
  });

  it('walk every shard once from a random start', () => {
    expect(shardOrder(5, cycling(0.5))).toEqual([2, 3, 4, 0, 1]);
  });

  it('shuffle the shards with room into an order holding each once', () => {
    const order = shuffled([3, 8, 13, 21], cycling(0.9, 0.1, 0.6));
    expect([...order].sort((a, b) => a - b)).toEqual([3, 8, 13, 21]);
    expect(order).not.toEqual([3, 8, 13, 21]);
  });

  it('change a split in at most three rounds of its two cases, then throw the last refusal', async () => {
    // Prepare: a write whose condition another writer always defeats.
    const tried: string[] = [];
    const refusals = Array.from({ length: 6 }, (_, i) => new Error(`refused ${i}`));
    const write = async (update: SplitUpdate): Promise<never> => {
      tried.push(update.condition);
      throw refusals[tried.length - 1];
    };

    // Act
    const change = changeSplit(
      { count: 4, at: new Date('2026-05-10T00:00:00Z'), initial: 1 },
      write,
      () => true,
    );

    // Assess
    await expect(change).rejects.toBe(refusals[5]);
    expect(tried).toHaveLength(6);
    expect(new Set(tried).size).toBe(2);
  });

  it('take a split change that lands in its second round, and pass on an error that is no refusal', async () => {
    // Prepare
    let calls = 0;
    const landsThird = async (update: SplitUpdate) => {
      calls += 1;
      if (calls < 3) throw new Error('refused');
      return update.values[':from'];
    };
    const broken = new Error('storage unavailable');

    // Act
    const landed = await changeSplit(
      { count: 4, at: new Date('2026-05-10T00:00:00Z'), initial: 1 },
      landsThird,
      (err) => (err as Error).message === 'refused',
    );
    const failing = changeSplit(
      { count: 4, at: new Date('2026-05-10T00:00:00Z'), initial: 1 },
      async () => {
        throw broken;
      },
      (err) => err !== broken,
    );

    // Assess
    expect(landed).toBe('2026-06');
    expect(calls).toBe(3);
    await expect(failing).rejects.toBe(broken);
  });
});
