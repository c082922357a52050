/** The authorizer's dependencies, built once per instance: reads of keys and teams, nothing else. */
import type { AuthorizerDeps } from '#shared/auth.ts';
import { requireEnv, type TollgateEnv } from '#shared/env.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { importedKeysCache } from '#shared/store/imported-keys.ts';
import { KeyReader } from '#shared/store/key-reader.ts';
import { TeamReader } from '#shared/store/team-reader.ts';

/** What the authorizer reads, from the env contract (over `db`, for measuring or gating its calls). */
export function authorizerDepsFromEnv(env: TollgateEnv, db = leanDocumentDb()): AuthorizerDeps {
  const keys = new KeyReader(db, requireEnv(env, 'keysTable'));
  return {
    keys,
    teams: new TeamReader(db, requireEnv(env, 'teamsTable')),
    prefix: env.keyPrefix,
    importedKeys: importedKeysCache(keys),
  };
}
