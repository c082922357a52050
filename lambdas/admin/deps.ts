/** The management API's dependencies: configuration stores attributed to each caller, the audit log. */
import type { AdminDeps } from '#shared/admin/core.ts';
import { AuditLog } from '#shared/audit/chain.ts';
import { digestStoreFromSpec } from '#shared/audit/digests.ts';
import { signerFromSpec } from '#shared/audit/signer.ts';
import { requireEnv, type TollgateEnv } from '#shared/env.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { RequestLogStore } from '#shared/store/request-log.ts';
import { meterFromEnv } from '#shared/store/request-path.ts';
import { configStores } from '#shared/store/stores.ts';

/** Built once per instance from the env contract (over `db`, for gating its calls in tests). */
export function adminFromEnv(env: TollgateEnv, db = leanDocumentDb()): AdminDeps {
  return {
    stores: (actor) => ({
      ...configStores(env, db, actor),
      meter: meterFromEnv(env, db),
      requestLog: new RequestLogStore(db, requireEnv(env, 'requestLogTable'), env.requestLogRetentionDays),
    }),
    audit: new AuditLog(
      db,
      requireEnv(env, 'auditTable'),
      digestStoreFromSpec(requireEnv(env, 'auditDigestStore')),
    ),
    signer: signerFromSpec(requireEnv(env, 'auditSigner')),
  };
}
