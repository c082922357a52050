/**
 * Signed digests of the audit chain and the store that keeps them out of the audit table's reach.
 *
 * A digest is numbered (1, 2, 3… without gaps) and covers a contiguous range of records: from the record
 * after the previous digest's last one up to the chain head when it was signed, with each covered record's
 * hash. It links backward (the previous digest's signature, and a start time equal to the previous digest's
 * end time) and forward (`nextBy`: the time by which the next digest must exist), so a verifier finds a
 * removed or replayed digest and any period nobody signed. A `stop` digest (the local runtime shutting down)
 * promises instead that nothing is appended until the next digest, which must then cover no new record.
 *
 * Every digest is written twice: to the audit table (the working copy the sealer reads) and to a digest store
 * the table's writers cannot rewrite — on AWS an S3 bucket with Object Lock, locally an append-only file in
 * the state folder. Verification trusts the store and checks the table against it.
 */
import { appendFile as appendToFile, readFile } from 'node:fs/promises';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { canonical } from './canonical.ts';

/** Why a digest was signed. */
export type DigestReason = 'count' | 'schedule' | 'stop';

/** A signed digest of the records `fromSeq`..`toSeq` (an empty range when `toSeq` = `fromSeq` − 1). */
export interface AuditDigest {
  seq: number;
  fromSeq: number;
  toSeq: number;
  /** The hash of each covered record, in order. */
  hashes: string[];
  /** The hash of record `toSeq` (the genesis hash while the log is empty). */
  headHash: string;
  /** The previous digest's `endTime` (the first digest's own `endTime`). */
  startTime: string;
  endTime: string;
  /** The next digest is due by then; verification reports a gap otherwise. */
  nextBy: string;
  reason: DigestReason;
  previousSignature: string | null;
  keyId: string;
  signature: string;
}

/** The bytes a digest's signature covers: everything but the signature, canonical JSON. */
export function digestMessage(digest: Omit<AuditDigest, 'signature'>): Buffer {
  const { signature: _signature, ...signed } = digest as AuditDigest;
  return Buffer.from(canonical(signed));
}

/** True when two digests are the same, signature included. */
export function sameDigest(a: AuditDigest, b: AuditDigest): boolean {
  return canonical(a) === canonical(b);
}

/** The store refused a digest because it already holds a different one under the same number. */
export class DigestConflictError extends Error {
  constructor(store: string, seq: number) {
    super(`${store} already holds a different digest ${seq}: the audit table was tampered with`);
    this.name = 'DigestConflictError';
  }
}

/** Where digests are kept beyond the audit table's writers. Writes never replace a digest. */
export interface DigestStore {
  /** Names the store in messages (`s3://bucket/digests/`, `file:/path`). */
  readonly name: string;
  /** Adds a digest; adding the same digest again is a no-op. @throws {DigestConflictError} */
  put(digest: AuditDigest): Promise<void>;
  /** Every digest, in number order. */
  list(): Promise<AuditDigest[]>;
}

/** Writes to each file, one at a time: a check-then-append must not interleave with another. */
const fileQueues = new Map<string, Promise<unknown>>();

/** A JSON-lines file only ever appended to. */
export class FileDigestStore implements DigestStore {
  readonly name: string;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.name = `file:${path}`;
  }

  put(digest: AuditDigest): Promise<void> {
    const queued = (fileQueues.get(this.path) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.append(digest));
    fileQueues.set(this.path, queued);
    return queued;
  }

  private async append(digest: AuditDigest): Promise<void> {
    const existing = (await this.list()).find((d) => d.seq === digest.seq);
    if (existing !== undefined) {
      if (sameDigest(existing, digest)) return;
      throw new DigestConflictError(this.name, digest.seq);
    }
    await appendToFile(this.path, `${canonical(digest)}\n`, { mode: 0o600, flag: 'a' });
  }

  async list(): Promise<AuditDigest[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditDigest)
      .sort((a, b) => a.seq - b.seq);
  }
}

const objectKey = (seq: number): string => `digests/${String(seq).padStart(12, '0')}.json`;

/**
 * An S3 bucket with Object Lock: each digest is one object, created only if absent (`If-None-Match: *`),
 * kept under the bucket's default retention so nobody — the audit function included — can change it.
 */
export class S3DigestStore implements DigestStore {
  readonly name: string;
  private readonly bucket: string;
  private readonly s3: S3Client;

  constructor(bucket: string, s3: S3Client = new S3Client({})) {
    this.bucket = bucket;
    this.s3 = s3;
    this.name = `s3://${bucket}/digests/`;
  }

  async put(digest: AuditDigest): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey(digest.seq),
          Body: canonical(digest),
          ContentType: 'application/json',
          IfNoneMatch: '*',
          // Object Lock requires an integrity checksum on every write.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    } catch (err) {
      if (!(err instanceof S3ServiceException) || err.$metadata.httpStatusCode !== 412) throw err;
      const existing = await this.get(objectKey(digest.seq));
      if (!sameDigest(existing, digest)) throw new DigestConflictError(this.name, digest.seq);
    }
  }

  async list(): Promise<AuditDigest[]> {
    const digests: AuditDigest[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'digests/', ContinuationToken: token }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key !== undefined) digests.push(await this.get(object.Key));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return digests.sort((a, b) => a.seq - b.seq);
  }

  private async get(key: string): Promise<AuditDigest> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse((await out.Body?.transformToString()) ?? 'null') as AuditDigest;
  }
}

/** The digest store named by the env contract: `s3:<bucket>` in AWS, `file:<path>` locally. */
export function digestStoreFromSpec(spec: string): DigestStore {
  if (spec.startsWith('s3:')) return new S3DigestStore(spec.slice(3));
  if (spec.startsWith('file:')) return new FileDigestStore(spec.slice(5));
  throw new Error("audit digest store must be 's3:<bucket>' or 'file:<path>'");
}
