/**
 * The digest stores: S3 with Object Lock (through the real S3 client against a wire-faithful fake) and the
 * local append-only file. Both keep a digest once, accept the same digest again, refuse a different one
 * under the same number, and list in number order.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditDigest,
  DigestConflictError,
  type DigestStore,
  FileDigestStore,
  S3DigestStore,
} from '#shared/audit/digests.ts';
import { startFakeS3 } from '../../../fakes/s3.ts';

const digest = (seq: number, signature = `sig-${seq}`): AuditDigest => ({
  seq,
  fromSeq: seq,
  toSeq: seq,
  hashes: ['a'.repeat(64)],
  headHash: 'a'.repeat(64),
  startTime: '2026-11-23T12:00:00.000Z',
  endTime: '2026-11-23T12:15:00.000Z',
  nextBy: '2026-11-23T12:35:00.000Z',
  reason: 'count',
  previousSignature: seq === 1 ? null : `sig-${seq - 1}`,
  keyId: 'local',
  signature,
});

let s3: Awaited<ReturnType<typeof startFakeS3>>;

beforeAll(async () => {
  s3 = await startFakeS3('digests-bucket', { pageSize: 2 });
});

afterAll(async () => {
  await s3?.close();
});

const stores: Array<[string, () => DigestStore]> = [
  [
    's3',
    () =>
      new S3DigestStore(
        'digests-bucket',
        new S3Client({
          endpoint: s3.endpoint,
          forcePathStyle: true,
          region: 'eu-west-1',
          credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
        }),
      ),
  ],
  [
    'file',
    () => new FileDigestStore(join(mkdtempSync(join(tmpdir(), 'tollgate-digests-')), 'digests.jsonl')),
  ],
];

describe.each(stores)('the %s digest store', (_kind, make) => {
  it('keeps each digest once, accepts it again, refuses another under its number, lists in order', async () => {
    // Prepare
    const store = make();

    // Act
    await Promise.all([digest(3), digest(1), digest(2), digest(4), digest(5)].map((d) => store.put(d)));
    await store.put(digest(2));
    const conflict = await store.put(digest(2, 'forged')).catch((err: unknown) => err);

    // Assess
    expect(conflict).toBeInstanceOf(DigestConflictError);
    expect((conflict as Error).message).toBe(
      `${store.name} already holds a different digest 2: the audit table was tampered with`,
    );
    expect((await store.list()).map((d) => [d.seq, d.signature])).toEqual([
      [1, 'sig-1'],
      [2, 'sig-2'],
      [3, 'sig-3'],
      [4, 'sig-4'],
      [5, 'sig-5'],
    ]);
  });
});

describe('the S3 digest store on the wire', () => {
  it('creates each object only if absent, with an integrity checksum as Object Lock requires, never a second version', () => {
    // Every object has one version, though digest 2 was put three times.
    expect([...s3.objects.values()].map((versions) => versions.length)).toEqual([1, 1, 1, 1, 1]);
    expect(s3.puts.every((p) => p.ifNoneMatch === '*')).toBe(true);
    expect(s3.puts.filter((p) => p.key === 'digests/000000000002.json').map((p) => p.status)).toEqual([
      200, 412, 412,
    ]);
  });

  it('refuses a put without a checksum, as an Object Lock bucket does', async () => {
    const response = await fetch(`${s3.endpoint}/digests-bucket/digests/000000000009.json`, {
      method: 'PUT',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=test' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>InvalidRequest</Code>');
  });
});

describe('the file digest store', () => {
  it('only ever appends, one canonical JSON line per digest', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tollgate-digests-')), 'digests.jsonl');
    const store = new FileDigestStore(path);
    await store.put(digest(1));
    const first = readFileSync(path, 'utf8');
    await store.put(digest(2));
    await store.put(digest(1));
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(first)).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(2);
  });
});
