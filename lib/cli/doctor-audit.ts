/** Doctor's audit check: the log recorded every change doctor made, up to their removal, and verifies. */
import { signerFromSpec } from '#shared/audit/signer.ts';
import { readEnv, requireEnv } from '#shared/env.ts';
import { auditLog } from './audit.ts';
import { type CheckResult, fail, pass } from './doctor-report.ts';

/** Waits up to `waitMs` for a `…delete` record of every target (`table:id`), then verifies the chain. */
export async function auditCheck(
  targets: readonly string[],
  options: { waitMs: number; sleep: (ms: number) => Promise<void> },
): Promise<CheckResult> {
  const log = auditLog();
  const started = Date.now();
  let missing: string[] = [...targets];
  for (;;) {
    const removed = new Set(
      (await log.records())
        .filter((r) => r.action.endsWith('.delete'))
        .map((r) => `${r.target.table}:${r.target.id}`),
    );
    missing = targets.filter((t) => !removed.has(t));
    if (missing.length === 0 || Date.now() - started >= options.waitMs) break;
    await options.sleep(1000);
  }
  const waited = Date.now() - started;
  if (missing.length > 0) {
    return fail(
      'audit',
      `after ${Math.round(waited / 1000)} s the audit log lacks the removal of ${missing.join(', ')}`,
      'the audit function is not keeping up: check its DynamoDB stream trigger, its errors and the audit failure queue',
    );
  }
  const publicKey = await signerFromSpec(requireEnv(readEnv(), 'auditSigner')).publicKeyPem();
  const verified = await log.verify(publicKey);
  return verified.ok
    ? pass(
        'audit',
        `caught up with doctor's ${targets.length} targets in ${waited} ms; ${verified.records} records, ${verified.digests} signed digests verify`,
      )
    : fail(
        'audit',
        `broken at ${verified.item}: ${verified.reason}`,
        'run tollgate audit verify and investigate the record named',
      );
}
