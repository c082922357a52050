/** The audit chain under contention, on DynamoDB Local: parallel appenders cannot fork it. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '#shared/audit/chain.ts';
import type { AuditEntry } from '#shared/audit/entries.ts';
import { LocalSigner } from '#shared/audit/signer.ts';
import { documentClient } from '#shared/store/db.ts';
import { awsActor } from '../../../../lib/cli/actor.ts';
import { startFakeSts } from '../../../fakes/sts.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

let log: AuditLog;
const signer = new LocalSigner(mkdtempSync(join(tmpdir(), 'tollgate-signer-'))).ensure();

const entry = (n: number): AuditEntry => ({
  eventId: randomUUID(),
  time: new Date().toISOString(),
  actor: `local:writer-${n % 4}`,
  action: 'team.create',
  changeId: randomUUID(),
  target: { table: 'teams', id: `team_${n}` },
  diff: { name: { before: null, after: `t${n}` } },
});

beforeAll(async () => {
  const env = await setupLocalEnv();
  log = new AuditLog(documentClient(), env.state.tables.audit);
});

describe('the audit chain', () => {
  it('stays one contiguous, verifiable chain when 40 appends race (as parallel shards would)', async () => {
    // Act
    const appended = await Promise.all(
      Array.from({ length: 40 }, (_, n) => log.append(entry(n), signer, 10)),
    );

    // Assess
    expect(new Set(appended.map((r) => r?.seq)).size).toBe(40);
    const records = await log.records();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await log.verify(await signer.publicKeyPem())).toEqual({ ok: true, records: 40, digests: 4 });
  });

  it('appends a replayed event id only once', async () => {
    const e = entry(99);
    const first = await log.append(e, signer, 10);
    const again = await log.append(e, signer, 10);
    expect(first?.seq).toBe(41);
    expect(again).toBeUndefined();
    expect(await log.records()).toHaveLength(41);
  });
});

describe('attribution against a deployed stack', () => {
  it('uses the caller’s IAM principal ARN from STS GetCallerIdentity', async () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/TollgateOperators/alice';
    const sts = await startFakeSts(arn);
    const client = new STSClient({
      endpoint: sts.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    expect(await awsActor(client)).toEqual({ id: arn });
    await sts.close();
  });
});
