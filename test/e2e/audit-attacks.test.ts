/**
 * An attacker who can read and write every item of the audit table — records, hashes, the head, the table's
 * digests — but cannot sign with the audit key nor touch the digest store. The history is made by the real
 * pipeline (configuration writes → DynamoDB Local streams → stream poller → audit handler, a real P-256 key
 * pair, the append-only digest file) under a clock the test moves. Each attack rewrites the table from a
 * pristine copy and must be caught, with the first broken or missing item named.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteCommand, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord, recordHash } from '#shared/audit/chain.ts';
import { type AuditDigest, digestMessage, FileDigestStore } from '#shared/audit/digests.ts';
import { LocalSigner } from '#shared/audit/signer.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import type { StreamPoller } from '../../lib/local/stream-poller.ts';
import { setupLocalEnv } from '../helpers/local-env.ts';

process.env.TOLLGATE_AUDIT_DIGEST_EVERY = '3';
process.env.TOLLGATE_AUDIT_DIGEST_MINUTES = '15';
const MINUTE = 60_000;
const clock = { now: Date.parse('2026-11-23T12:00:00.000Z') };

type Item = Record<string, unknown>;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let poller: StreamPoller;
let log: AuditLog;
let publicKey: string;
let table: string;
let pristine: Item[];
let earlier: Item[];

const pad = (n: number) => String(n).padStart(12, '0');
const recKey = (seq: number) => ({ pk: 'chain', sk: `rec#${pad(seq)}` });
const digestKey = (seq: number) => ({ pk: 'chain', sk: `digest#${pad(seq)}` });
const db = () => documentClient();

async function scanAll(): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateScan({ client: db() }, { TableName: table, ConsistentRead: true }))
    items.push(...(page.Items ?? []));
  return items;
}

/** The attacker's write access: any item, any content. */
const put = (item: Item) => db().send(new PutCommand({ TableName: table, Item: item }));
const remove = (key: Item) => db().send(new DeleteCommand({ TableName: table, Key: key }));

async function restore(items: Item[]): Promise<void> {
  for (const item of await scanAll()) await remove({ pk: item.pk, sk: item.sk });
  for (const item of items) await put(item);
}

async function change(name: string): Promise<void> {
  clock.now += MINUTE;
  await env.stores.teams.create(name);
  await poller.drain();
}

const itemOf = (record: AuditRecord): Item => ({
  ...recKey(record.seq),
  ...record,
  diff: JSON.stringify(record.diff),
});
const headItem = async (): Promise<Item> => (pristine.find((i) => i.sk === 'head') ?? {}) as Item;

/** Rewrites records from `from` on so that every hash and link is right again, and the head with them. */
async function rechain(records: AuditRecord[], from: number): Promise<void> {
  let previous = records[from - 2]?.hash ?? '0'.repeat(64);
  for (const [index, record] of records.entries()) {
    const seq = index + 1;
    if (seq < from) continue;
    const { hash: _hash, ...content } = { ...record, seq, prevHash: previous };
    const rehashed = { ...content, hash: recordHash(content) };
    await put(itemOf(rehashed));
    previous = rehashed.hash;
  }
  await put({ ...(await headItem()), seq: records.length, hash: previous });
}

async function verify() {
  return log.verify(publicKey, clock.now);
}

beforeAll(async () => {
  env = await setupLocalEnv();
  table = env.state.tables.audit;
  const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
  poller = await auditPoller(env.state, { clock: () => clock.now });
  log = new AuditLog(db(), table, new FileDigestStore(join(env.state.home, 'audit-digests.jsonl')));
  publicKey = await new LocalSigner(join(env.state.home, 'audit')).publicKeyPem();

  // Records 1–12 a minute apart: the runtime's first digest (empty), then one every 3 records.
  for (let n = 1; n <= 12; n++) {
    await change(`team-${n}`);
    if (n === 6) earlier = await scanAll();
  }
  // Idle past the interval: the schedule signs a digest with nothing new in it.
  clock.now += 15 * MINUTE;
  await poller.drain();
  await change('team-13');
  pristine = await scanAll();
});

afterAll(async () => {
  await poller?.stop();
});

beforeEach(async () => {
  await restore(pristine);
});

describe('the history the attacks start from', () => {
  it('is intact: 13 records, digests 1–6, record 13 awaiting the next digest', async () => {
    expect(await verify()).toEqual({
      ok: true,
      records: 13,
      digests: 6,
      unsealed: 1,
      sealedAt: '2026-11-23T12:27:00.000Z',
    });
    const digests = (await log.digests()).map(({ digest: d }) => [d.seq, d.fromSeq, d.toSeq, d.reason]);
    expect(digests).toEqual([
      [1, 1, 0, 'schedule'],
      [2, 1, 3, 'count'],
      [3, 4, 6, 'count'],
      [4, 7, 9, 'count'],
      [5, 10, 12, 'count'],
      [6, 13, 12, 'schedule'],
    ]);
  });
});

describe('an attacker with write access to the audit table and no signing key', () => {
  it('edits a record and re-hashes the chain after it: the record differs from its signed hash', async () => {
    const records = await log.records();
    records[4] = { ...(records[4] as AuditRecord), actor: 'local:someone-else' };
    await rechain(records, 5);
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 5',
      reason: 'record 5 is not the record signed in digest 3',
    });
  });

  it('deletes the tail with the digests that cover it and moves the head back', async () => {
    for (const seq of [10, 11, 12, 13]) await remove(recKey(seq));
    for (const seq of [5, 6]) await remove(digestKey(seq));
    const records = (await log.records()).slice(0, 9);
    await put({ ...(await headItem()), seq: 9, hash: records[8]?.hash, digest: 4, sealed: 9 });
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 10',
      reason: 'record 10 is missing or out of order (digest 5 covers records 10–12)',
    });
  });

  it('deletes every record, digest and the head: broken, not "intact: 0 records"', async () => {
    await restore([]);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, item: 'digest 1' });
    expect(result.ok === false && result.reason).toMatch(/^digest 1 is missing from the audit table \(file:/);
  });

  it('deletes every record but keeps the digests: the first record is missing', async () => {
    for (let seq = 1; seq <= 13; seq++) await remove(recKey(seq));
    await remove({ pk: 'chain', sk: 'head' });
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 1',
      reason: 'record 1 is missing or out of order (digest 2 covers records 1–3)',
    });
  });

  it('truncates the log and re-signs every digest with a key of its own', async () => {
    // Prepare: records 1–6 kept, digests 1–3 rebuilt over them under the attacker's key.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let seq = 7; seq <= 13; seq++) await remove(recKey(seq));
    for (let seq = 1; seq <= 6; seq++) await remove(digestKey(seq));
    const originals = (await new FileDigestStore(join(env.state.home, 'audit-digests.jsonl')).list()).slice(
      0,
      3,
    );
    let previousSignature: string | null = null;
    for (const original of originals) {
      const unsigned: Omit<AuditDigest, 'signature'> = { ...original, previousSignature, keyId: 'local' };
      const signature = sign('sha256', digestMessage(unsigned), privateKey).toString('base64');
      await put({ ...digestKey(original.seq), ...unsigned, signature });
      previousSignature = signature;
    }
    const records = (await log.records()).slice(0, 6);
    await put({ ...(await headItem()), seq: 6, hash: records[5]?.hash, digest: 3, sealed: 6 });

    // Act, Assess
    expect(await verify()).toMatchObject({ ok: false, item: 'digest 1' });
    expect(JSON.stringify(await verify())).toContain(
      'digest 1 in the audit table differs from the one in file:',
    );
  });

  it('swaps two records', async () => {
    const a = pristine.find((i) => i.sk === recKey(4).sk) as Item;
    const b = pristine.find((i) => i.sk === recKey(5).sk) as Item;
    await put({ ...b, ...recKey(4) });
    await put({ ...a, ...recKey(5) });
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 4',
      reason: 'record 4 is missing or out of order (digest 3 covers records 4–6)',
    });
  });

  it('reorders two records and re-hashes the chain so every link holds', async () => {
    const records = await log.records();
    const [fourth, fifth] = [records[3] as AuditRecord, records[4] as AuditRecord];
    records[3] = fifth;
    records[4] = fourth;
    await rechain(records, 4);
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 4',
      reason: 'record 4 is not the record signed in digest 3',
    });
  });

  it('replays an old digest in place of a newer one', async () => {
    const second = pristine.find((i) => i.sk === digestKey(2).sk) as Item;
    await put({ ...second, ...digestKey(5) });
    const result = await verify();
    expect(result).toMatchObject({ ok: false, item: 'digest 5' });
    expect(result.ok === false && result.reason).toMatch(
      /^digest 5 in the audit table differs from the one in/,
    );
  });

  it('replays the newest digest as a further one, to vouch for records it appends', async () => {
    const sixth = pristine.find((i) => i.sk === digestKey(6).sk) as Item;
    await put({ ...sixth, ...digestKey(7) });
    expect(await verify()).toEqual({
      ok: false,
      item: 'digest 7',
      reason: 'digest 7 is missing from the audit table or out of order',
    });
  });

  it('drops a digest from the table', async () => {
    await remove(digestKey(4));
    const result = await verify();
    expect(result).toMatchObject({ ok: false, item: 'digest 4' });
    expect(result.ok === false && result.reason).toMatch(/^digest 4 is missing from the audit table \(file:/);
  });

  it('forges the head', async () => {
    await put({ ...(await headItem()), hash: 'f'.repeat(64) });
    expect(await verify()).toEqual({
      ok: false,
      item: 'head',
      reason: 'the chain head names record 13, but the log ends at record 13 with another hash',
    });
    await put({ ...(await headItem()), digest: 4, sealed: 9 });
    expect(await verify()).toEqual({
      ok: false,
      item: 'head',
      reason: 'the chain head names digest 4, but the newest digest is 6',
    });
  });

  it('inserts a record between two digests and renumbers the rest', async () => {
    const records = await log.records();
    const forged: AuditRecord = { ...(records[7] as AuditRecord), eventId: 'forged', actor: 'local:nobody' };
    records.splice(7, 0, forged);
    await rechain(records, 8);
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 8',
      reason: 'record 8 is not the record signed in digest 4',
    });
  });

  it('rolls the whole table back to an earlier, self-consistent state', async () => {
    await restore(earlier);
    expect(await verify()).toEqual({
      ok: false,
      item: 'record 7',
      reason: 'record 7 is missing or out of order (digest 4 covers records 7–9)',
    });
  });

  it('edits the record not yet sealed without re-hashing it', async () => {
    const thirteenth = pristine.find((i) => i.sk === recKey(13).sk) as Item;
    await put({ ...thirteenth, actor: 'local:someone-else' });
    expect(await verify()).toEqual({ ok: false, item: 'record 13', reason: 'record 13 was edited' });
  });
});

describe('coverage up to now', () => {
  it('reports the gap when no digest was signed within the interval and its slack', async () => {
    // Prepare: 15 minutes' interval plus 5 minutes' slack after the newest digest, and one more minute.
    const before = clock.now;
    clock.now = Date.parse('2026-11-23T12:48:00.000Z');

    // Act
    const result = await verify();
    clock.now = before;

    // Assess
    expect(result).toEqual({
      ok: false,
      item: 'gap 2026-11-23T12:27:00.000Z–2026-11-23T12:48:00.000Z',
      reason:
        'no signed digest since digest 6 (2026-11-23T12:27:00.000Z); the next was due by 2026-11-23T12:47:00.000Z',
    });
  });

  it('keeps recording when the attacker stops sealing by deleting the newest digest, and names it', async () => {
    // Prepare
    await remove(digestKey(6));

    // Act: two changes arrive, the second makes a digest due; sealing cannot find the digest to build on.
    await change('after-the-deletion-1');
    await change('after-the-deletion-2');

    // Assess: the record is in the chain, not in the failure file; verification names the missing digest.
    expect((await log.records()).map((r) => r.seq).at(-1)).toBe(15);
    expect(existsSync(join(env.state.home, 'audit-failures.jsonl'))).toBe(false);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, item: 'digest 6' });
    expect(result.ok === false && result.reason).toMatch(/^digest 6 is missing from the audit table/);
  });

  it('keeps a gap in the digest store itself: a later digest does not cover it up', async () => {
    // Prepare: the runtime misses its schedule for an hour, then signs again.
    clock.now += 60 * MINUTE;
    await poller.drain();

    // Act
    const result = await verify();

    // Assess
    expect(result).toMatchObject({
      ok: false,
      item: `gap 2026-11-23T12:27:00.000Z–${new Date(clock.now).toISOString()}`,
    });
    expect(clock.now).toBeGreaterThan(Date.parse('2026-11-23T13:27:00.000Z'));
    pristine = await scanAll();
  });
});

describe('a runtime that stops', () => {
  it('may stay stopped for any time, but records that appear meanwhile are caught', async () => {
    // Prepare: a fresh installation; three changes, then the runtime stops (signing a `stop` digest).
    await poller.stop();
    env = await setupLocalEnv();
    table = env.state.tables.audit;
    const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
    const start = async () => {
      poller = await auditPoller(env.state, { clock: () => clock.now });
      await poller.drain();
    };
    await start();
    for (const n of [1, 2, 3]) await change(`stopping-${n}`);
    await poller.stop();
    log = new AuditLog(db(), table, new FileDigestStore(join(env.state.home, 'audit-digests.jsonl')));
    publicKey = await new LocalSigner(join(env.state.home, 'audit')).publicKeyPem();

    // Act 1: two hours later it starts again.
    clock.now += 120 * MINUTE;
    await start();
    const afterRestart = await verify();

    // Act 2: it stops; the attacker appends a well-chained record; it starts again.
    await poller.stop();
    const last = (await log.records()).at(-1) as AuditRecord;
    const { hash: _hash, ...content } = {
      ...last,
      seq: 4,
      eventId: 'forged-while-stopped',
      prevHash: last.hash,
    };
    const forged = { ...content, hash: recordHash(content) };
    await put(itemOf(forged));
    const head = (await scanAll()).find((i) => i.sk === 'head') as Item;
    await put({ ...head, seq: 4, hash: forged.hash });
    clock.now += 10 * MINUTE;
    await start();
    const afterForgery = await verify();

    // Assess
    expect(afterRestart).toMatchObject({ ok: true, records: 3, unsealed: 0 });
    expect(afterForgery).toEqual({
      ok: false,
      item: 'record 4',
      reason: 'records 4–4 appeared while the audit runtime was stopped (after digest 5)',
    });
  });
});
