/**
 * The proxy's configuration on a Lambda: the provider store and the installation's settings behind one
 * cache that stays fresh. Everything cached (configuration, aliases, prices, decrypted credentials, default
 * price and installation budget) is dropped as soon as the configuration version moves; the version is
 * compared at most every `checkEveryMs` per instance (0: once per request), and on a miss (a model, alias
 * or price the cache does not know) at once, unless it was compared within the last {@link MISS_CHECK_MS}.
 * `ttlSeconds` still bounds how long anything lives, should a version bump itself have failed. A request
 * works on one view ({@link CachedConfig.forRequest}), so its lookups share one version check.
 */
import { TtlCache } from '../cache.ts';
import type { ApiShape } from '../errors.ts';
import { ModelNotFoundError } from '../errors.ts';
import type { Alias, ProviderStore, ProviderView, ResolvedProvider } from '../store/providers.ts';
import type { InstallationSettings, SettingsStore } from '../store/settings.ts';
import type { ProviderSource, SettingsSource } from './context.ts';
import { type ModelSlug, targetsFor } from './targets.ts';

/**
 * A miss compares the version at most this often per instance (when the periodic check is slower), so
 * unknown model names or an unpriced model cannot add a read to every request.
 */
export const MISS_CHECK_MS = 250;

/** How fresh the cached configuration is kept. */
export interface FreshnessOptions {
  /** Longest time anything stays cached, in seconds; 0 caches nothing (every use reads the store). */
  ttlSeconds: number;
  /** How often the configuration version is compared, in milliseconds; 0: before every use. */
  checkEveryMs: number;
  now?: () => number;
}

/** What the cache reads providers from. */
export type ProviderOrigin = Pick<ProviderStore, 'resolve' | 'list' | 'listAliases' | 'configVersion'>;

/** What the cache reads from: the providers (with the version) and the settings, which bump it too. */
export interface ConfigOrigin {
  providers: ProviderOrigin;
  settings: Pick<SettingsStore, 'get'>;
}

/** The proxy's two configuration sources. */
export interface ConfigView {
  providers: ProviderSource;
  settings: SettingsSource;
}

/** The proxy's two configuration sources, kept fresh by one version. */
export interface CachedConfig extends ConfigView {
  /**
   * The sources as one request sees them: the version is compared at the request's first lookup (when the
   * interval asks for it) and not again, but for a miss, so its lookups cost one version read, not one
   * each, and what they cached stays for the request's whole length.
   */
  forRequest(): ConfigView;
}

/** One generation of cached values; a version change starts a new one, so late loads land in the old. */
interface Generation {
  resolved: TtlCache<string, ResolvedProvider>;
  providers: TtlCache<'providers', ProviderView[]>;
  aliases: TtlCache<'aliases', Alias[]>;
  settings: TtlCache<'settings', InstallationSettings>;
}

/** Wraps a provider store alone (no settings), as {@link cachedConfig}. */
export function cachedProviders(store: ProviderOrigin, options: FreshnessOptions): ProviderSource {
  return cachedConfig({ providers: store, settings: { get: async () => ({}) } }, options).providers;
}

/**
 * Wraps the configuration stores so what they serve is never older than the configuration version allows:
 * a price, a provider or a default price set a moment ago binds the next request that could be wrong
 * without it (a miss refreshes at once), and every other request within `checkEveryMs`.
 */
export function cachedConfig(origin: ConfigOrigin, options: FreshnessOptions): CachedConfig {
  if (options.ttlSeconds <= 0) {
    const uncached = { providers: origin.providers, settings: origin.settings };
    return { ...uncached, forRequest: () => uncached };
  }
  const store = origin.providers;
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlSeconds * 1000;
  const fresh = (): Generation => ({
    resolved: new TtlCache(ttlMs, 256, now),
    providers: new TtlCache(ttlMs, 1, now),
    aliases: new TtlCache(ttlMs, 1, now),
    settings: new TtlCache(ttlMs, 1, now),
  });
  let generation = fresh();
  let version: number | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const read = async (): Promise<void> => {
    const started = now();
    const current = await store.configVersion();
    checkedAt = started;
    if (current !== version) {
      version = current;
      generation = fresh();
    }
  };
  // A caller needs a read that started after it asked: a read already under way may predate the change
  // it must see, so callers arriving meanwhile share one read queued behind it.
  const readFromNow = (): Promise<void> => {
    if (running === undefined) {
      running = read().finally(() => {
        running = undefined;
      });
      return running;
    }
    // Settled either way: a read that failed (storage down) must not leave every later caller waiting on
    // its rejection for the life of the instance.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return readFromNow();
      });
    return queued;
  };
  const current = async (): Promise<Generation> => {
    if (version === undefined || now() - checkedAt >= options.checkEveryMs) await readFromNow();
    return generation;
  };
  const refresh = (): Promise<void> =>
    now() - checkedAt < Math.min(options.checkEveryMs, MISS_CHECK_MS) ? Promise.resolve() : readFromNow();

  const sources = (gen: () => Promise<Generation>, refreshed: () => Promise<void>): ConfigView => ({
    providers: {
      resolve: async (name) => {
        const cached = await gen();
        const hit = cached.resolved.get(name);
        if (hit !== undefined) return hit;
        const loaded = await store.resolve(name);
        // An unknown name is not cached: the next request asks the store again.
        if (loaded !== undefined) cached.resolved.set(name, loaded);
        return loaded;
      },
      list: async () => (await gen()).providers.getOrLoad('providers', () => store.list()),
      listAliases: async () => (await gen()).aliases.getOrLoad('aliases', () => store.listAliases()),
      refresh: refreshed,
    },
    settings: {
      get: async () => (await gen()).settings.getOrLoad('settings', () => origin.settings.get()),
    },
  });
  return {
    ...sources(current, refresh),
    forRequest: () => {
      let pinned: Promise<Generation> | undefined;
      return sources(
        () => {
          pinned ??= current();
          return pinned;
        },
        async () => {
          await refresh();
          pinned = Promise.resolve(generation);
        },
      );
    },
  };
}

/** True when every target's provider is known with a price for its model. */
async function allKnown(providers: ProviderSource, targets: readonly ModelSlug[]): Promise<boolean> {
  const views = await providers.list();
  return targets.every((t) => views.find((p) => p.provider === t.provider)?.prices[t.model] !== undefined);
}

/**
 * The targets of a model, as {@link targetsFor}; on a miss — an unknown model or alias, or a target
 * without a provider or a price — the configuration version is compared at once and the answer given
 * from what is current, so a change just made is never missed for want of a periodic check.
 */
export async function freshTargets(
  providers: ProviderSource,
  model: string,
  shape: ApiShape,
): Promise<ModelSlug[]> {
  if (providers.refresh === undefined) return targetsFor(providers, model, shape);
  try {
    const targets = await targetsFor(providers, model, shape);
    if (await allKnown(providers, targets)) return targets;
  } catch (err) {
    if (!(err instanceof ModelNotFoundError)) throw err;
  }
  await providers.refresh();
  return targetsFor(providers, model, shape);
}
