/**
 * The stores built from the env contract. The management API, the CLI and the local gateway construct
 * them here, over the proxy's own (`request-path.ts`), so each reads the same tables the same way.
 */
import { keyringFromSpec } from '../crypto/keyrings.ts';
import { requireEnv, type TollgateEnv } from '../env.ts';
import { leanDocumentDb } from '../sdk-lean/dynamodb.ts';
import type { Actor } from './attribution.ts';
import type { DocumentDb } from './db.ts';
import { KeyStore } from './keys.ts';
import { ProviderStore } from './providers.ts';
import { type RequestPathStores, requestPathStores } from './request-path.ts';
import { secretSourceFor } from './secrets-manager.ts';
import { SettingsStore } from './settings.ts';
import { TeamStore } from './teams.ts';

/** Every store: the request path's, with keys, teams and providers that can change; the CLI and the local gateway share them. */
export interface TollgateStores extends Omit<RequestPathStores, 'keys' | 'teams' | 'providers'> {
  keys: KeyStore;
  teams: TeamStore;
  providers: ProviderStore;
}

/** The stores that hold configuration, the ones a change is attributed and audited on. */
export type ConfigStores = Pick<TollgateStores, 'keys' | 'teams' | 'providers' | 'settings'>;

/** The configuration stores; only stores given an `actor` may change configuration. */
export function configStores(env: TollgateEnv, db: DocumentDb, actor?: Actor): ConfigStores {
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
 * The stores the CLI, the local gateway and the admin API use: the request path's (`request-path.ts`),
 * with keys, teams and providers that can change. Only stores given an `actor` may change configuration.
 */
export function storesFromEnv(
  env: TollgateEnv,
  actor?: Actor,
  db: DocumentDb = leanDocumentDb(),
): TollgateStores {
  return { ...requestPathStores(env, db), ...configStores(env, db, actor) };
}
