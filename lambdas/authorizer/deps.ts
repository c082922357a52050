/** The authorizer's dependencies, built once per instance: keys and teams, nothing else. */
import type { AuthorizerDeps } from '#shared/auth.ts';
import { requireEnv, type TollgateEnv } from '#shared/env.ts';
import { documentClient } from '#shared/store/db.ts';
import { importedKeysCache } from '#shared/store/imported-keys.ts';
import { KeyStore } from '#shared/store/keys.ts';
import { TeamStore } from '#shared/store/teams.ts';

/** What the authorizer reads, from the env contract. */
export function authorizerDepsFromEnv(env: TollgateEnv): AuthorizerDeps {
  const db = documentClient();
  const keys = new KeyStore(db, requireEnv(env, 'keysTable'), env.keyPrefix);
  return {
    keys,
    teams: new TeamStore(db, requireEnv(env, 'teamsTable')),
    prefix: env.keyPrefix,
    importedKeys: importedKeysCache(keys),
  };
}
