/**
 * The freshness bound of the proxy's provider cache on DynamoDB Local, with an injected clock: a change is
 * served no later than `checkEveryMs` after it landed, at once on a miss, and without a read per use.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cachedConfig,
  cachedProviders,
  freshTargets,
  MISS_CHECK_MS,
  type ProviderOrigin,
} from '#shared/proxy/provider-cache.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;

/** The real store, counting version reads. */
function counted(origin: ProviderOrigin): ProviderOrigin & { versionReads: () => number } {
  let reads = 0;
  return {
    resolve: (name) => origin.resolve(name),
    list: () => origin.list(),
    listAliases: () => origin.listAliases(),
    configVersion: () => {
      reads += 1;
      return origin.configVersion();
    },
    versionReads: () => reads,
  };
}

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
});

describe('the provider cache', () => {
  it('serves a change within checkEveryMs, reading the version once per interval', async () => {
    // Prepare
    let now = 1_000_000;
    const origin = counted(env.stores.providers);
    const cache = cachedProviders(origin, { ttlSeconds: 300, checkEveryMs: 2000, now: () => now });
    expect((await cache.list()).map((p) => p.provider)).not.toContain('late');

    // Act
    await env.stores.providers.add(
      { name: 'late', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
      { secret: 'sk-late-1' },
    );
    now += 1999;
    const within = (await cache.list()).map((p) => p.provider);
    for (let i = 0; i < 50; i++) await cache.list();
    const readsWithin = origin.versionReads();
    now += 1;
    const after = (await cache.list()).map((p) => p.provider);

    // Assess
    expect(within).not.toContain('late');
    expect(readsWithin).toBe(1);
    expect(after).toContain('late');
    expect(origin.versionReads()).toBe(2);
  });

  it('compares the version on a miss: a new price, alias or provider is used by the next request', async () => {
    // Prepare
    let now = 5_000_000;
    const cache = cachedProviders(env.stores.providers, {
      ttlSeconds: 300,
      checkEveryMs: 60_000,
      now: () => now,
    });
    await env.stores.providers.add(
      { name: 'priced', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
      { secret: 'sk-priced-1' },
    );
    expect(await freshTargets(cache, 'priced/m', 'openai')).toEqual([{ provider: 'priced', model: 'm' }]);
    await expect(freshTargets(cache, 'later-alias', 'openai')).rejects.toThrow(
      /not a 'provider\/model' slug/,
    );

    // Act: well before the periodic check is due, but past the miss interval.
    await env.stores.providers.setPrice('priced', 'm', { inputPerMTok: 1, outputPerMTok: 2 });
    await env.stores.providers.setAlias('later-alias', ['priced/m']);
    now += MISS_CHECK_MS;
    const targets = await freshTargets(cache, 'later-alias', 'openai');
    const views = await cache.list();

    // Assess
    expect(targets).toEqual([{ provider: 'priced', model: 'm' }]);
    expect(views.find((p) => p.provider === 'priced')?.prices.m).toEqual({
      inputPerMTok: 1,
      outputPerMTok: 2,
    });
  });

  it('drops decrypted credentials once a credential is removed', async () => {
    // Prepare
    let now = 9_000_000;
    const cache = cachedProviders(env.stores.providers, {
      ttlSeconds: 300,
      checkEveryMs: 2000,
      now: () => now,
    });
    await env.stores.providers.add(
      { name: 'rotating', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
      { secret: 'sk-rotating-1' },
    );
    await env.stores.providers.addCredential('rotating', { secret: 'sk-rotating-2' });
    const first = (await env.stores.providers.listCredentials('rotating'))[0];
    expect((await cache.resolve('rotating'))?.credentials).toHaveLength(2);

    // Act
    await env.stores.providers.removeCredential('rotating', first?.id ?? '');
    now += 2000;
    const resolved = await cache.resolve('rotating');

    // Assess
    expect(resolved?.credentials.map((c) => c.secret)).toEqual(['sk-rotating-2']);
  });

  it("serves the installation's settings within checkEveryMs of a change, one settings read per generation", async () => {
    // Prepare
    let now = 13_000_000;
    let settingsReads = 0;
    const config = cachedConfig(
      {
        providers: env.stores.providers,
        settings: {
          get: () => {
            settingsReads += 1;
            return env.stores.settings.get();
          },
        },
      },
      { ttlSeconds: 300, checkEveryMs: 2000, now: () => now },
    );
    const before = await config.settings.get();

    // Act
    await env.stores.settings.set({ budgetMicros: 7_000_000 });
    now += 1999;
    for (let i = 0; i < 20; i++) await config.settings.get();
    const within = await config.settings.get();
    const readsWithin = settingsReads;
    now += 1;
    const after = await config.settings.get();

    // Assess
    expect(before.budgetMicros).toBeUndefined();
    expect(within.budgetMicros).toBeUndefined();
    expect(readsWithin).toBe(1);
    expect(after.budgetMicros).toBe(7_000_000);
    expect(settingsReads).toBe(2);
  });

  it('recovers after a failed version read that concurrent callers queued behind', async () => {
    // Prepare: storage refuses while two uses overlap, as a request's providers and settings reads do.
    let down = true;
    const origin: ProviderOrigin = {
      ...counted(env.stores.providers),
      configVersion: () =>
        down ? Promise.reject(new Error('storage unavailable')) : env.stores.providers.configVersion(),
    };
    const config = cachedConfig(
      { providers: origin, settings: env.stores.settings },
      { ttlSeconds: 300, checkEveryMs: 0 },
    );
    const during = await Promise.allSettled([config.providers.list(), config.settings.get()]);

    // Act
    down = false;
    const after = await Promise.allSettled([config.providers.list(), config.settings.get()]);

    // Assess
    expect(during.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(after.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('checks once per request when asked to check before every use, and the next request sees a change', async () => {
    // Prepare: the local gateway's setting (0 ms: a change binds the very next request).
    const origin = counted(env.stores.providers);
    const config = cachedConfig(
      { providers: origin, settings: env.stores.settings },
      { ttlSeconds: 300, checkEveryMs: 0 },
    );
    const lookups = async (view: ReturnType<typeof config.forRequest>) => {
      await Promise.all([view.providers.list(), view.settings.get()]);
      await view.providers.listAliases();
      await view.providers.resolve('nobody');
      return (await view.providers.list()).map((p) => p.provider);
    };

    // Act
    const first = await lookups(config.forRequest());
    const readsOfOne = origin.versionReads();
    await env.stores.providers.add(
      { name: 'next-one', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
      { secret: 'sk-next-1' },
    );
    const second = await lookups(config.forRequest());

    // Assess
    expect(readsOfOne).toBe(1);
    expect(first).not.toContain('next-one');
    expect(second).toContain('next-one');
    expect(origin.versionReads()).toBe(2);
  });

  it('keeps one configuration through a request, moving on only after a miss', async () => {
    // Prepare
    let now = 17_000_000;
    const config = cachedConfig(
      { providers: env.stores.providers, settings: env.stores.settings },
      { ttlSeconds: 300, checkEveryMs: 0, now: () => now },
    );
    const view = config.forRequest();
    const before = (await view.providers.list()).map((p) => p.provider);

    // Act
    await env.stores.providers.add(
      { name: 'mid-request', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] },
      { secret: 'sk-mid-1' },
    );
    now += 1000;
    const during = (await view.providers.list()).map((p) => p.provider);
    await view.providers.refresh?.();
    const afterMiss = (await view.providers.list()).map((p) => p.provider);

    // Assess
    expect(before).not.toContain('mid-request');
    expect(during).not.toContain('mid-request');
    expect(afterMiss).toContain('mid-request');
  });
});
