/**
 * The stores the request path (the proxy) uses, built from the env contract. Keys and teams are only read
 * there, as are providers, so its bundle carries their readers and not the writes, audit stamps and
 * transactions of `KeyStore`, `TeamStore` and `ProviderStore`; `stores.ts` builds the CLI's and the admin
 * API's over these, with those three writable.
 */
import { keyringFromSpec } from '../crypto/keyrings.ts';
import { requireEnv, type TollgateEnv } from '../env.ts';
import { leanDocumentDb } from '../sdk-lean/dynamodb.ts';
import type { DocumentDb } from './db.ts';
import { KeyReader } from './key-reader.ts';
import { Meter } from './metering.ts';
import { ProviderReader } from './provider-reader.ts';
import { ProviderStatsStore } from './provider-stats.ts';
import { RequestLogStore } from './request-log.ts';
import { secretSourceFor } from './secrets-manager.ts';
import { SettingsStore } from './settings.ts';
import { TeamReader } from './team-reader.ts';
import { UsageStore } from './usage.ts';

/** The proxy's stores: configuration read without an actor (so never changed), counters and logs written. */
export interface RequestPathStores {
  keys: KeyReader;
  teams: TeamReader;
  providers: ProviderReader;
  settings: SettingsStore;
  usage: UsageStore;
  meter: Meter;
  requestLog: RequestLogStore;
  providerStats: ProviderStatsStore;
}

/**
 * The meter of the env contract: a split change counts as stale, for `staleMs`, every cached copy of a
 * key's, team's or the installation's limits — the callers' cache (the authorizer's TTL) and the
 * configuration check.
 */
export function meterFromEnv(env: TollgateEnv, db: DocumentDb): Meter {
  return new Meter(db, requireEnv(env, 'usageTable'), {
    staleMs: env.callerCacheSeconds * 1000 + env.configCheckMs,
  });
}

/** The request path's stores over `db` (one client for all, so one connection pool). */
export function requestPathStores(env: TollgateEnv, db: DocumentDb = leanDocumentDb()): RequestPathStores {
  const usage = requireEnv(env, 'usageTable');
  const keyring = requireEnv(env, 'keyring');
  return {
    keys: new KeyReader(db, requireEnv(env, 'keysTable')),
    teams: new TeamReader(db, requireEnv(env, 'teamsTable')),
    providers: new ProviderReader(
      db,
      requireEnv(env, 'providersTable'),
      keyringFromSpec(keyring),
      secretSourceFor(keyring),
    ),
    settings: new SettingsStore(db, requireEnv(env, 'providersTable')),
    usage: new UsageStore(db, usage),
    meter: meterFromEnv(env, db),
    providerStats: new ProviderStatsStore(db, usage),
    requestLog: new RequestLogStore(db, requireEnv(env, 'requestLogTable'), env.requestLogRetentionDays),
  };
}
