/**
 * The audit chain under contention, on DynamoDB Local: parallel appenders and sealers cannot fork it, and
 * every digest names exactly the head it covers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '#shared/audit/chain.ts';
import { FileDigestStore } from '#shared/audit/digests.ts';
import type { AuditEntry } from '#shared/audit/entries.ts';
import { LocalSigner } from '#shared/audit/signer.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { awsActor } from '../../../../lib/cli/actor.ts';
import { startFakeSts } from '../../../fakes/sts.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

let log: AuditLog;
const dir = mkdtempSync(join(tmpdir(), 'tollgate-signer-'));
const signer = new LocalSigner(dir).ensure();
const store = new FileDigestStore(join(dir, 'digests.jsonl'));
const NOW = Date.parse('2026-11-23T12:00:00Z');
const seal = { signer, now: NOW, intervalMs: 15 * 60_000, digestEvery: 10 };

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
  log = new AuditLog(leanDocumentDb(), env.state.tables.audit, store);
});

describe('the audit chain', () => {
  it('stays one contiguous, verifiable chain when 40 appends and their sealing race (as parallel shards would)', async () => {
    // Act
    const appended = await Promise.all(
      Array.from({ length: 40 }, async (_, n) => {
        const record = await log.append(entry(n));
        await log.sealIfDue(seal);
        return record;
      }),
    );
    await log.seal({ ...seal, reason: 'schedule' });

    // Assess
    expect(new Set(appended.map((r) => r?.seq)).size).toBe(40);
    const records = await log.records();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const verified = await log.verify(await signer.publicKeyPem(), NOW);
    expect(verified).toMatchObject({ ok: true, records: 40, unsealed: 0 });
    const digests = await store.list();
    expect(digests.at(-1)?.toSeq).toBe(40);
    // Each digest covers what the previous left off, and at most 10 records plus what raced in meanwhile.
    for (const [i, d] of digests.entries()) expect(d.fromSeq).toBe((digests[i - 1]?.toSeq ?? 0) + 1);
    expect((await log.digests()).map((d) => d.digest)).toEqual(digests);
  });

  it('appends a replayed event id only once', async () => {
    const e = entry(99);
    const first = await log.append(e);
    const again = await log.append(e);
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
