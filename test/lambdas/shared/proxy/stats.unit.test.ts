/**
 * The statistics routes answer from one memo per instance for `statsFlushMs`: the counters cannot be
 * fresher, and the routes are public, so repeated calls must not each cost a Query per provider.
 */
import { describe, expect, it } from 'vitest';
import { createProxy, type ProxyDeps } from '#shared/proxy/index.ts';
import { emptyCounts } from '#shared/store/provider-stats.ts';

describe('GET /v1/stats/providers', () => {
  it('queries the counters once per statsFlushMs, though every request works on its own view of the configuration', async () => {
    // Prepare
    let windows = 0;
    const providers = {
      list: async () => [{ provider: 'p', type: 'openai' }],
      resolve: async () => undefined,
      listAliases: async () => [],
    };
    const settings = { get: async () => ({}) };
    const deps = {
      providers,
      settings,
      configForRequest: () => ({ providers, settings }),
      stats: {
        add: async () => undefined,
        window: async () => {
          windows += 1;
          return emptyCounts();
        },
      },
      statsFlushMs: 60_000,
      keyPrefix: 'sk-tg',
      maxBodyBytes: 1_000_000,
      importedKeys: async () => ({}),
    } as unknown as ProxyDeps;
    const proxy = createProxy(deps);
    const ask = () =>
      proxy.handle({
        requestId: 'stats-1',
        method: 'GET',
        resource: '/v1/stats/providers',
        path: '/v1/stats/providers',
        params: {},
        headers: {},
        query: {},
        body: '',
        auth: undefined,
        signal: new AbortController().signal,
      });

    // Act
    const first = await ask();
    const second = await ask();

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(windows).toBe(2);
  });
});
