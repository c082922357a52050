/** The audit processor's dependencies, built once per instance from the env contract. */
import { type AuditorDeps, failureSinkFromSpec } from '#shared/audit/auditor.ts';
import { AuditLog } from '#shared/audit/chain.ts';
import { digestStoreFromSpec } from '#shared/audit/digests.ts';
import { signerFromSpec } from '#shared/audit/signer.ts';
import { ENV, EnvError, requireEnv, type TollgateEnv } from '#shared/env.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';

/** The audit log with its digest store, its signer and failure sink, and the tables it records (over `db`). */
export function auditorFromEnv(
  env: TollgateEnv,
  clock: () => number = Date.now,
  db = leanDocumentDb(),
): AuditorDeps {
  if (env.auditDigestMinutes < 1) throw new EnvError(ENV.auditDigestMinutes, 'must be at least 1');
  return {
    log: new AuditLog(
      db,
      requireEnv(env, 'auditTable'),
      digestStoreFromSpec(requireEnv(env, 'auditDigestStore')),
    ),
    signer: signerFromSpec(requireEnv(env, 'auditSigner')),
    sink: failureSinkFromSpec(requireEnv(env, 'auditFailureSink')),
    tables: {
      keys: requireEnv(env, 'keysTable'),
      teams: requireEnv(env, 'teamsTable'),
      providers: requireEnv(env, 'providersTable'),
    },
    digestEvery: env.auditDigestEvery,
    digestIntervalMs: env.auditDigestMinutes * 60_000,
    clock,
  };
}
