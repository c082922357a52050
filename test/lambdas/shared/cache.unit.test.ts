/** The per-instance TTL cache, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { TtlCache } from '#shared/cache.ts';

/** A clock the test moves by hand. */
function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TtlCache', () => {
  it('serves a value until its TTL passes, then forgets it', () => {
    // Prepare
    const time = clock();
    const cache = new TtlCache<string, number>(100, 10, time.now);
    cache.set('a', 1);

    // Act
    const fresh = cache.get('a');
    time.advance(100);
    const expired = cache.get('a');

    // Assess
    expect(fresh).toBe(1);
    expect(expired).toBeUndefined();
  });

  it('evicts the oldest entry past its size bound', () => {
    // Prepare
    const cache = new TtlCache<string, number>(1_000, 2, clock().now);

    // Act
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);

    // Assess
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
  });

  it('caches nothing with a TTL of 0', async () => {
    // Prepare
    const cache = new TtlCache<string, number>(0, 2, clock().now);
    let loads = 0;

    // Act
    await cache.getOrLoad('a', async () => ++loads);
    await cache.getOrLoad('a', async () => ++loads);

    // Assess
    expect(loads).toBe(2);
  });

  it('loads once on a miss and serves the loaded value after', async () => {
    // Prepare
    const cache = new TtlCache<string, string>(1_000, 2, clock().now);
    let loads = 0;

    // Act
    const first = await cache.getOrLoad('k', async () => `v${++loads}`);
    const second = await cache.getOrLoad('k', async () => `v${++loads}`);

    // Assess
    expect([first, second, loads]).toEqual(['v1', 'v1', 1]);
  });
});
