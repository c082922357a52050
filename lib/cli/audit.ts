/**
 * `tollgate audit list|verify`: the audit log, filtered, and its verification against the digest store
 * (continuous signed coverage from the first record up to now; the first broken or missing item named).
 */
import { AuditLog, filterAuditRecords } from '#shared/audit/chain.ts';
import { digestStoreFromSpec } from '#shared/audit/digests.ts';
import { signerFromSpec } from '#shared/audit/signer.ts';
import { readEnv, requireEnv } from '#shared/env.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { printJson, printTable, UsageError } from './output.ts';

/** Filters of `audit list`. */
export interface AuditListOptions {
  json: boolean;
  since?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  action?: string | undefined;
}

/** The installation's audit log, with the digest store its env names. */
export function auditLog(): AuditLog {
  const env = readEnv();
  return new AuditLog(
    documentClient(),
    requireEnv(env, 'auditTable'),
    digestStoreFromSpec(requireEnv(env, 'auditDigestStore')),
  );
}

/** Runs one `audit` subcommand; returns the exit code (`verify`: 0 intact, 1 broken). */
export async function auditCommand(sub: string, options: AuditListOptions): Promise<number> {
  const log = auditLog();
  if (sub === 'list') {
    const records = filterAuditRecords(await log.records(), options, '--since');
    if (options.json) printJson(records);
    else {
      printTable(
        ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'CHANGED'],
        records.map((r) => [
          String(r.seq),
          r.time,
          r.actor,
          r.action,
          `${r.target.table}:${r.target.id}`,
          Object.keys(r.diff).join(',') || '-',
        ]),
      );
    }
    return 0;
  }
  if (sub === 'verify') {
    const publicKey = await signerFromSpec(requireEnv(readEnv(), 'auditSigner')).publicKeyPem();
    const result = await log.verify(publicKey);
    if (options.json) printJson(result);
    else if (result.ok)
      process.stdout.write(
        `Audit log intact: ${result.records} record(s), ${result.digests} signed digest(s), ` +
          `the newest at ${result.sealedAt}; ${result.unsealed} record(s) await the next digest.\n`,
      );
    else process.stdout.write(`Audit log BROKEN at ${result.item}: ${result.reason}\n`);
    return result.ok ? 0 : 1;
  }
  throw new UsageError(`unknown command 'audit ${sub}'`);
}
