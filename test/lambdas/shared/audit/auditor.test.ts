/**
 * The auditor on DynamoDB Local: a digest that was due when a crash cut the function off after its append
 * is signed when the stream delivers the record again, though the replay appends nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AuditorDeps, auditRecord } from '#shared/audit/auditor.ts';
import { AuditLog } from '#shared/audit/chain.ts';
import { FileDigestStore } from '#shared/audit/digests.ts';
import { entryFor } from '#shared/audit/entries.ts';
import { LocalSigner } from '#shared/audit/signer.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
let deps: AuditorDeps;
let teamsTable: string;

const teamCreated = (n: number): DynamoDBRecord =>
  ({
    eventID: `event-${n}`,
    eventName: 'INSERT',
    eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${teamsTable}/stream/2026-11-23T00:00:00.000`,
    dynamodb: {
      NewImage: marshall({
        teamId: `team_${n}`,
        name: `t${n}`,
        status: 'active',
        lastChange: {
          actor: 'local:test',
          changeId: `change-${n}`,
          at: '2026-11-23T12:00:00.000Z',
          action: 'team.create',
        },
      }),
    },
  }) as unknown as DynamoDBRecord;

beforeAll(async () => {
  const env = await setupLocalEnv();
  teamsTable = env.state.tables.teams;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-auditor-'));
  deps = {
    log: new AuditLog(
      leanDocumentDb(),
      env.state.tables.audit,
      new FileDigestStore(join(dir, 'digests.jsonl')),
    ),
    signer: new LocalSigner(dir).ensure(),
    sink: { send: async () => undefined },
    tables: { keys: env.state.tables.keys, teams: teamsTable, providers: env.state.tables.providers },
    digestEvery: 2,
    digestIntervalMs: 15 * 60_000,
    clock: () => NOW,
  };
});

describe('the auditor', () => {
  it('signs on the replay the digest a crash after the append left unsigned', async () => {
    // Prepare: records 1 and 2 through the auditor (the first is sealed at once: no digest yet); record 3
    // makes a digest due (2 unsealed), but the function "crashes" right after appending it.
    await auditRecord(teamCreated(1), deps);
    await auditRecord(teamCreated(2), deps);
    const entry = entryFor(teamCreated(3), 'teams');
    if (entry === undefined) throw new Error('no entry');
    await deps.log.append(entry);
    const beforeReplay = (await deps.log.digests()).map(({ digest }) => digest.toSeq);

    // Act: the event source mapping delivers record 3 again.
    await auditRecord(teamCreated(3), deps);

    // Assess
    expect(beforeReplay).toEqual([1]);
    expect((await deps.log.records()).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(
      (await deps.log.digests()).map(({ digest }) => [digest.fromSeq, digest.toSeq, digest.reason]),
    ).toEqual([
      [1, 1, 'schedule'],
      [2, 3, 'count'],
    ]);
    expect(await deps.log.verify(await deps.signer.publicKeyPem(), NOW)).toMatchObject({
      ok: true,
      records: 3,
    });
  });
});
