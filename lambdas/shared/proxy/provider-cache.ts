/**
 * The proxy's provider source on a Lambda: the provider store behind a bounded-time cache, so
 * configuration and decrypted credentials live in memory for at most the configured seconds.
 */
import { TtlCache } from '../cache.ts';
import type { ProviderStore, ResolvedProvider } from '../store/providers.ts';
import type { ProviderSource } from './context.ts';

/**
 * Wraps a provider store so configuration and decrypted credentials live in memory for at most
 * `ttlSeconds`, bounding both KMS calls and how long a removed credential keeps working on a warm instance.
 */
export function cachedProviders(
  store: Pick<ProviderStore, 'resolve' | 'list' | 'listAliases'>,
  ttlSeconds: number,
): ProviderSource {
  const resolved = new TtlCache<string, ResolvedProvider>(ttlSeconds * 1000, 256);
  const lists = new TtlCache<'providers', Awaited<ReturnType<ProviderStore['list']>>>(ttlSeconds * 1000, 1);
  const aliases = new TtlCache<'aliases', Awaited<ReturnType<ProviderStore['listAliases']>>>(
    ttlSeconds * 1000,
    1,
  );
  return {
    resolve: async (name) => {
      const hit = resolved.get(name);
      if (hit !== undefined) return hit;
      const fresh = await store.resolve(name);
      if (fresh !== undefined) resolved.set(name, fresh);
      return fresh;
    },
    list: () => lists.getOrLoad('providers', () => store.list()),
    listAliases: () => aliases.getOrLoad('aliases', () => store.listAliases()),
  };
}
