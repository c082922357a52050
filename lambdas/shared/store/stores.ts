/**
 * The stores built from the env contract. The proxy, the management API, the CLI and the local gateway
 * all construct them here, so each reads the same tables the same way.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keyringFromSpec } from '../crypto/keyrings.ts';
import { requireEnv, type TollgateEnv } from '../env.ts';
import type { Actor } from './attribution.ts';
import { documentClient } from './db.ts';
import { KeyStore } from './keys.ts';
import { Meter } from './metering.ts';
import { ProviderStatsStore } from './provider-stats.ts';
import { ProviderStore } from './providers.ts';
import { RequestLogStore } from './request-log.ts';
import { secretSourceFor } from './secrets-manager.ts';
import { SettingsStore } from './settings.ts';
import { TeamStore } from './teams.ts';
import { UsageStore } from './usage.ts';

/** Every store; the proxy, the CLI and the local gateway share them. */
export interface TollgateStores {
  keys: KeyStore;
  teams: TeamStore;
  providers: ProviderStore;
  settings: SettingsStore;
  usage: UsageStore;
  meter: Meter;
  requestLog: RequestLogStore;
  providerStats: ProviderStatsStore;
}

/** The stores that hold configuration, the ones a change is attributed and audited on. */
export type ConfigStores = Pick<TollgateStores, 'keys' | 'teams' | 'providers' | 'settings'>;

/** The configuration stores; only stores given an `actor` may change configuration. */
export function configStores(env: TollgateEnv, db: DynamoDBDocumentClient, actor?: Actor): ConfigStores {
  const options = { actor };
  const keyring = requireEnv(env, 'keyring');
  return {
    keys: new KeyStore(db, requireEnv(env, 'keysTable'), env.keyPrefix, {
      ...options,
      teamsTable: requireEnv(env, 'teamsTable'),
    }),
    teams: new TeamStore(db, requireEnv(env, 'teamsTable'), options),
    providers: new ProviderStore(db, requireEnv(env, 'providersTable'), keyringFromSpec(keyring), {
      ...options,
      secrets: secretSourceFor(keyring),
    }),
    settings: new SettingsStore(db, requireEnv(env, 'providersTable'), options),
  };
}

/**
 * The stores the CLI, the local gateway and the proxy use. Only stores given an `actor` may change
 * configuration; the proxy gets none.
 */
export function storesFromEnv(
  env: TollgateEnv,
  actor?: Actor,
  db: DynamoDBDocumentClient = documentClient(),
): TollgateStores {
  const tables = {
    keys: requireEnv(env, 'keysTable'),
    teams: requireEnv(env, 'teamsTable'),
    usage: requireEnv(env, 'usageTable'),
  };
  return {
    ...configStores(env, db, actor),
    usage: new UsageStore(db, tables.usage),
    meter: new Meter(db, tables.usage),
    providerStats: new ProviderStatsStore(db, tables.usage),
    requestLog: new RequestLogStore(db, requireEnv(env, 'requestLogTable'), env.requestLogRetentionDays),
  };
}
