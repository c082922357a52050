/** The installation's settings behind the same bounded-time cache as the providers' configuration. */
import { TtlCache } from '../cache.ts';
import type { InstallationSettings, SettingsStore } from '../store/settings.ts';

/** Where the proxy reads the installation's settings. */
export interface SettingsSource {
  get(): Promise<InstallationSettings>;
}

/** Wraps the settings store so an instance reads the settings at most once every `ttlSeconds`. */
export function cachedSettings(store: Pick<SettingsStore, 'get'>, ttlSeconds: number): SettingsSource {
  const cache = new TtlCache<'settings', InstallationSettings>(ttlSeconds * 1000, 1);
  return { get: () => cache.getOrLoad('settings', () => store.get()) };
}
