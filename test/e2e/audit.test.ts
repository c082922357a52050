/**
 * The audit log through the local stream poller, on DynamoDB Local: every administrative operation made
 * through the CLI yields exactly one attributed record; replays add nothing; no secret reaches the log;
 * `audit verify` catches an edited, a deleted and a swapped record and a forged digest (more attacks in
 * `audit-attacks.test.ts`); a poison record
 * lands whole in the failure destination while the rest of its batch is recorded.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditLog, type AuditRecord } from '#shared/audit/chain.ts';
import { FileDigestStore } from '#shared/audit/digests.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import type { StreamPoller } from '../../lib/local/stream-poller.ts';
import { runCli } from '../helpers/run-cli.ts';

const HOME = mkdtempSync(join(tmpdir(), 'tollgate-audit-'));
process.env.TOLLGATE_HOME = HOME;
process.env.TOLLGATE_TABLE_PREFIX = `audit${process.pid}`;
process.env.TOLLGATE_AUDIT_DIGEST_EVERY = '3';
const UPSTREAM_SECRET = 'sk-upstream-audit-secret-77';
let poller: StreamPoller;
let log: AuditLog;
let auditTable: string;
let keysTable: string;
let auditedTables: string[];
const plaintextKeys: string[] = [];

const run = runCli;

async function records(): Promise<AuditRecord[]> {
  await poller.drain();
  return log.records();
}

beforeAll(async () => {
  const { applyLocalEnv, openLocalState, writeRuntime } = await import('../../lib/local/state.ts');
  const { ensureTables } = await import('../../lib/local/tables.ts');
  const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const state = openLocalState(HOME);
  // The CLI finds the run's DynamoDB Local through a runtime file naming this process as the gateway.
  writeRuntime(state, {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint: inject('dynamoEndpoint'),
    startedAt: new Date().toISOString(),
  });
  applyLocalEnv(state, inject('dynamoEndpoint'));
  await ensureTables(new DynamoDBClient({}), state.tables);
  auditTable = state.tables.audit;
  keysTable = state.tables.keys;
  auditedTables = [state.tables.keys, state.tables.teams, state.tables.providers];
  log = new AuditLog(documentClient(), auditTable, new FileDigestStore(join(HOME, 'audit-digests.jsonl')));
  poller = await auditPoller(state);
});

afterAll(async () => {
  await poller?.stop();
});

describe('attributed audit records', () => {
  it('records each CLI operation exactly once, with actor, action, target and diff', async () => {
    // Act: one of every administrative operation.
    const key = JSON.parse((await run('keys', 'create', '--name', 'audited', '--json')).stdout) as {
      id: string;
      key: string;
    };
    plaintextKeys.push(key.key);
    await run('keys', 'disable', key.id, '--yes');
    await run('keys', 'enable', key.id);
    plaintextKeys.push(
      (JSON.parse((await run('keys', 'rotate', key.id, '--json', '--yes')).stdout) as { key: string }).key,
    );
    const team = JSON.parse(
      (await run('teams', 'create', '--name', 'auditors', '--budget', '10', '--json')).stdout,
    ) as { id: string };
    await run('teams', 'disable', team.id, '--yes');
    process.env.AUDIT_UPSTREAM = UPSTREAM_SECRET;
    await run(
      'providers',
      'add',
      'up',
      '--type',
      'openai',
      '--base-url',
      'https://api.openai.com/v1',
      '--key-env',
      'AUDIT_UPSTREAM',
    );
    process.env.AUDIT_UPSTREAM = `${UPSTREAM_SECRET}-2`;
    const credential = JSON.parse(
      (await run('providers', 'credentials', 'add', 'up', '--key-env', 'AUDIT_UPSTREAM', '--json')).stdout,
    ) as { id: string };
    await run('providers', 'credentials', 'remove', 'up', credential.id, '--yes');
    await run('models', 'price', 'up/gpt-4o', '--input', '2.5', '--output', '10');
    await run('aliases', 'set', 'fast', '--targets', 'up/gpt-4o');
    await run('aliases', 'remove', 'fast', '--yes');
    await run('providers', 'remove', 'up', '--yes');
    await run('keys', 'delete', key.id, '--yes');
    await run('teams', 'delete', team.id, '--yes');

    // Assess
    const all = await records();
    // The chain orders records as they reach the audit function: in order within each table's stream.
    const actionsOf = (table: string) => all.filter((r) => r.target.table === table).map((r) => r.action);
    expect(actionsOf('keys')).toEqual([
      'key.create',
      'key.disable',
      'key.enable',
      'key.rotate',
      'key.delete',
    ]);
    expect(actionsOf('teams')).toEqual(['team.create', 'team.disable', 'team.delete']);
    expect(actionsOf('providers')).toEqual([
      'provider.create',
      'credential.create',
      'credential.delete',
      'price.set',
      'alias.set',
      'alias.delete',
      'provider.delete',
    ]);
    expect(all).toHaveLength(15);
    expect(new Set(all.map((r) => r.actor))).toEqual(
      new Set([`local:${(await import('node:os')).userInfo().username}`]),
    );
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    const [created, disabled] = all;
    expect(created).toMatchObject({
      target: { table: 'keys', id: key.id },
      diff: { name: { before: null, after: 'audited' }, status: { before: null, after: 'active' } },
    });
    expect(disabled?.diff).toEqual({ status: { before: 'active', after: 'disabled' } });
    expect(all.find((r) => r.action === 'price.set')?.diff).toEqual({
      prices: { before: {}, after: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } } },
    });
    expect(all.find((r) => r.action === 'key.delete')?.diff).toMatchObject({
      name: { before: 'audited', after: null },
    });
  });

  it('adds nothing when the same stream batches are delivered again', async () => {
    // Prepare: a second poller with no checkpoint reads every stream from the start.
    const before = (await records()).length;
    const { StreamPoller } = await import('../../lib/local/stream-poller.ts');
    const { handler } = (await import('../../lambdas/audit/handler.ts')) as unknown as {
      handler: ConstructorParameters<typeof StreamPoller>[0]['handler'];
    };
    const replay = new StreamPoller({
      tables: auditedTables,
      handler,
      onFailure: async () => undefined,
    });

    // Act
    await replay.drain();
    await replay.stop();

    // Assess
    expect(await log.records()).toHaveLength(before);
  });

  it('holds no plaintext key, key hash, ciphertext or upstream credential', async () => {
    const text = JSON.stringify(await records());
    for (const key of plaintextKeys) expect(text).not.toContain(key);
    expect(text).not.toContain(UPSTREAM_SECRET);
    for (const key of plaintextKeys)
      expect(text).not.toContain(createHash('sha256').update(key).digest('hex'));
    expect(text).not.toMatch(/"(keyHash|previousKeyHash|envelope|ciphertext|wrappedKey|iv|tag|hashes)":/);
  });
});

describe('tamper evidence', () => {
  const recKey = (seq: number) => ({ pk: 'chain', sk: `rec#${String(seq).padStart(12, '0')}` });
  const db = () => documentClient();

  async function verify(): Promise<{ code: number; stdout: string }> {
    return run('audit', 'verify');
  }

  async function tampered(change: () => Promise<void>, restore: () => Promise<void>): Promise<string> {
    await change();
    const result = await verify();
    await restore();
    expect(result.code).toBe(1);
    return result.stdout;
  }

  it('verifies an intact log with its signed digests', async () => {
    const result = await run('audit', 'verify', '--json');
    expect(result.code).toBe(0);
    // One digest when the runtime started, then one every 3 records.
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, records: 15, digests: 6, unsealed: 0 });
  });

  it('names the record that was edited', async () => {
    const original = (await db().send(new GetCommand({ TableName: auditTable, Key: recKey(4) }))).Item;
    const out = await tampered(
      () =>
        db()
          .send(
            new UpdateCommand({
              TableName: auditTable,
              Key: recKey(4),
              UpdateExpression: 'SET actor = :a',
              ExpressionAttributeValues: { ':a': 'local:someone-else' },
            }),
          )
          .then(() => undefined),
      () =>
        db()
          .send(new PutCommand({ TableName: auditTable, Item: original }))
          .then(() => undefined),
    );
    expect(out).toBe('Audit log BROKEN at record 4: record 4 was edited\n');
  });

  it('names the record that was deleted', async () => {
    const original = (await db().send(new GetCommand({ TableName: auditTable, Key: recKey(7) }))).Item;
    const out = await tampered(
      () =>
        db()
          .send(new DeleteCommand({ TableName: auditTable, Key: recKey(7) }))
          .then(() => undefined),
      () =>
        db()
          .send(new PutCommand({ TableName: auditTable, Item: original }))
          .then(() => undefined),
    );
    expect(out).toBe(
      'Audit log BROKEN at record 7: record 7 is missing or out of order (digest 4 covers records 7–9)\n',
    );
  });

  it('names the first of two swapped records', async () => {
    const a = (await db().send(new GetCommand({ TableName: auditTable, Key: recKey(5) }))).Item ?? {};
    const b = (await db().send(new GetCommand({ TableName: auditTable, Key: recKey(6) }))).Item ?? {};
    const put = (item: Record<string, unknown>) =>
      db().send(new PutCommand({ TableName: auditTable, Item: item }));
    const out = await tampered(
      async () => {
        await put({ ...b, ...recKey(5) });
        await put({ ...a, ...recKey(6) });
      },
      async () => {
        await put(a);
        await put(b);
      },
    );
    expect(out).toBe(
      'Audit log BROKEN at record 5: record 5 is missing or out of order (digest 3 covers records 4–6)\n',
    );
  });

  it('catches a forged digest', async () => {
    const digestKey = { pk: 'chain', sk: `digest#${String(3).padStart(12, '0')}` };
    const original = (await db().send(new GetCommand({ TableName: auditTable, Key: digestKey }))).Item;
    const out = await tampered(
      () =>
        db()
          .send(
            new UpdateCommand({
              TableName: auditTable,
              Key: digestKey,
              UpdateExpression: 'SET headHash = :h',
              ExpressionAttributeValues: { ':h': 'f'.repeat(64) },
            }),
          )
          .then(() => undefined),
      () =>
        db()
          .send(new PutCommand({ TableName: auditTable, Item: original }))
          .then(() => undefined),
    );
    expect(out).toBe(
      `Audit log BROKEN at digest 3: digest 3 in the audit table differs from the one in file:${join(HOME, 'audit-digests.jsonl')}\n`,
    );
    expect((await verify()).code).toBe(0);
  });
});

describe('failures and the CLI', () => {
  it('sends a poison record whole to the failure destination and records the rest of its batch', async () => {
    // Prepare: an attributed change, an unattributed write that bypasses the stores, another change.
    const before = (await records()).length;
    await run('teams', 'create', '--name', 'before-poison');
    await documentClient().send(
      new PutCommand({
        TableName: keysTable,
        Item: { keyId: 'rogue-key-id', name: 'written around the stores' },
      }),
    );
    await run('teams', 'create', '--name', 'after-poison');

    // Act
    const after = await records();

    // Assess
    expect(after.slice(before).map((r) => r.action)).toEqual(['team.create', 'team.create']);
    const failures = join(HOME, 'audit-failures.jsonl');
    expect(existsSync(failures)).toBe(true);
    const lines = readFileSync(failures, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; record: { dynamodb: { NewImage: unknown } } });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.reason).toBe('unattributed INSERT on keys');
    expect(lines[0]?.record.dynamodb.NewImage).toEqual({
      keyId: { S: 'rogue-key-id' },
      name: { S: 'written around the stores' },
    });
  });

  it('lists records filtered by action, actor, target and time', async () => {
    const teams = JSON.parse(
      (await run('audit', 'list', '--action', 'team.', '--json')).stdout,
    ) as AuditRecord[];
    expect(teams.map((r) => r.action)).toEqual([
      'team.create',
      'team.disable',
      'team.delete',
      'team.create',
      'team.create',
    ]);
    const nobody = JSON.parse(
      (await run('audit', 'list', '--actor', 'local:nobody', '--json')).stdout,
    ) as AuditRecord[];
    expect(nobody).toEqual([]);
    const future = JSON.parse(
      (await run('audit', 'list', '--since', '2999-01-01', '--json')).stdout,
    ) as AuditRecord[];
    expect(future).toEqual([]);
    const target = teams[0]?.target.id ?? '';
    const one = JSON.parse(
      (await run('audit', 'list', '--target', target, '--json')).stdout,
    ) as AuditRecord[];
    expect(one.every((r) => r.target.id === target)).toBe(true);
    const byName = JSON.parse(
      (await run('audit', 'list', '--target', 'auditors', '--json')).stdout,
    ) as AuditRecord[];
    // The team is deleted by now: its name is found in its own records, not in the teams table.
    expect(byName.map((r) => r.action)).toEqual(['team.create', 'team.disable', 'team.delete']);
    expect(byName).toEqual(one);
    expect((await run('audit', 'list', '--since', 'yesterday-ish')).code).toBe(2);
  });

  it('keeps the signing key pair in the state folder, the private half readable by the owner only', () => {
    expect(readFileSync(join(HOME, 'audit', 'audit-signing.pub.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    expect(statSync(join(HOME, 'audit', 'audit-signing.pem')).mode & 0o777).toBe(0o600);
  });
});
