/** How a sharded budget is split and walked: slices that add up, and orders that cover every shard once. */
import { describe, expect, it } from 'vitest';
import { shardOrder, shuffled, sliceOf } from '#shared/store/shards.ts';

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
});
