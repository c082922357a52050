/** The imported-key index as a per-instance cache, shared by the authorizer and the proxy. */
import { TtlCache } from '../cache.ts';
import type { KeyReader } from './key-reader.ts';

/** How long an instance trusts its copy of the imported-key index. */
const IMPORTED_INDEX_TTL_MS = 60_000;

/**
 * The imported-key index, read at most once per minute per instance whatever the request volume, so keys
 * of foreign format cost no per-request database read.
 */
export function importedKeysCache(
  keys: Pick<KeyReader, 'importedIndex'>,
): () => Promise<Record<string, string>> {
  const cache = new TtlCache<'index', Record<string, string>>(IMPORTED_INDEX_TTL_MS, 1);
  return () => cache.getOrLoad('index', () => keys.importedIndex());
}
