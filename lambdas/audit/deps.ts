/** The audit processor's dependencies, built once per instance from the env contract. */
import { type AuditorDeps, failureSinkFromSpec } from '#shared/audit/auditor.ts';
import { AuditLog } from '#shared/audit/chain.ts';
import { signerFromSpec } from '#shared/audit/signer.ts';
import { requireEnv, type TollgateEnv } from '#shared/env.ts';
import { documentClient } from '#shared/store/db.ts';

/** The audit log, its signer and failure sink, and the tables whose changes it records. */
export function auditorFromEnv(env: TollgateEnv): AuditorDeps {
  return {
    log: new AuditLog(documentClient(), requireEnv(env, 'auditTable')),
    signer: signerFromSpec(requireEnv(env, 'auditSigner')),
    sink: failureSinkFromSpec(requireEnv(env, 'auditFailureSink')),
    tables: {
      keys: requireEnv(env, 'keysTable'),
      teams: requireEnv(env, 'teamsTable'),
      providers: requireEnv(env, 'providersTable'),
    },
    digestEvery: env.auditDigestEvery,
  };
}
