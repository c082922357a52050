/**
 * Verification of the audit log against the digest store, naming the first broken or missing item.
 *
 * The store's digests are the authority (the table's writers cannot change them); digests the table holds
 * beyond them (signed but not yet published) extend the chain. Walking the chain in order: each digest is
 * signed by the pinned public key, numbered without gaps, follows the previous one (signature, record range,
 * start time), and came before the previous one's `nextBy` (else a gap in time); then the records it covers
 * are each present, chained and equal to the hash it signed; then its table copy equals the store's. After
 * the chain: the records not yet sealed are chained, the head names the newest record and digest, and the
 * newest digest's `nextBy` is not past — so a log emptied, cut short or rolled back is broken, not intact.
 */
import { GENESIS, recordHash } from './canonical.ts';
import { type AuditDigest, digestMessage, sameDigest } from './digests.ts';
import type { AuditRecord, ChainHead } from './records.ts';
import { verifySignature } from './signer.ts';

/** The outcome of a verification: intact with its coverage, or the first broken or missing item. */
export type Verification =
  | {
      ok: true;
      records: number;
      digests: number;
      /** Records newer than the newest digest: sealed by the next one. */
      unsealed: number;
      /** When the newest digest was signed. */
      sealedAt: string;
    }
  | {
      ok: false;
      /** `record N`, `digest N`, `head`, or `gap FROM–TO`. */
      item: string;
      reason: string;
    };

/** Everything verification reads. */
export interface VerifyInput {
  records: AuditRecord[];
  head: ChainHead;
  tableDigests: Array<{ at: number; digest: AuditDigest }>;
  storeDigests: AuditDigest[];
  storeName: string;
  publicKeyPem: string;
  now: number;
}

type Broken = Extract<Verification, { ok: false }>;
const broken = (item: string, reason: string): Broken => ({ ok: false, item, reason });
const range = (d: AuditDigest): string =>
  d.toSeq < d.fromSeq ? `no record (after record ${d.toSeq})` : `records ${d.fromSeq}–${d.toSeq}`;

/** Walks the records in order, each checked against the digest covering it. */
class RecordWalk {
  private index = 0;
  hash = GENESIS;

  private readonly records: AuditRecord[];

  constructor(records: AuditRecord[]) {
    this.records = records;
  }

  get count(): number {
    return this.index;
  }

  /** Checks records up to `to`; `digest` is the one that covers them (none for the unsealed tail). */
  until(to: number, digest?: AuditDigest): Broken | undefined {
    for (; this.index < to; this.index++) {
      const expected = this.index + 1;
      const record = this.records[this.index];
      const covered = digest === undefined ? '' : ` (digest ${digest.seq} covers ${range(digest)})`;
      if (record?.seq !== expected)
        return broken(`record ${expected}`, `record ${expected} is missing or out of order${covered}`);
      if (record.prevHash !== this.hash)
        return broken(`record ${expected}`, `record ${expected} does not follow record ${expected - 1}`);
      const { hash, ...content } = record;
      if (recordHash(content) !== hash) return broken(`record ${expected}`, `record ${expected} was edited`);
      if (digest !== undefined && digest.hashes[expected - digest.fromSeq] !== hash)
        return broken(
          `record ${expected}`,
          `record ${expected} is not the record signed in digest ${digest.seq}`,
        );
      this.hash = hash;
    }
    return undefined;
  }
}

/** Checks digest number `place.n`, read from `place.source`, against the one before it. */
function checkDigest(
  digest: AuditDigest,
  previous: AuditDigest | undefined,
  input: VerifyInput,
  place: { n: number; source: string },
): Broken | undefined {
  const { n, source } = place;
  const item = `digest ${n}`;
  if (digest.seq !== n) return broken(item, `digest ${n} is missing from ${source} or out of order`);
  if (!verifySignature(input.publicKeyPem, digestMessage(digest), Buffer.from(digest.signature, 'base64')))
    return broken(item, `digest ${n} has no valid signature`);
  if (digest.previousSignature !== (previous?.signature ?? null))
    return broken(item, `digest ${n} does not follow digest ${n - 1}`);
  const from = (previous?.toSeq ?? 0) + 1;
  if (digest.fromSeq !== from || digest.hashes.length !== digest.toSeq - digest.fromSeq + 1)
    return broken(item, `digest ${n} covers ${range(digest)}, but coverage continues at record ${from}`);
  if (previous === undefined) return undefined;
  if (digest.startTime !== previous.endTime)
    return broken(item, `digest ${n} does not start where digest ${n - 1} ended (${previous.endTime})`);
  if (previous.reason === 'stop' && digest.toSeq !== previous.toSeq)
    return broken(
      `record ${from}`,
      `records ${from}–${digest.toSeq} appeared while the audit runtime was stopped (after digest ${n - 1})`,
    );
  if (previous.reason !== 'stop' && Date.parse(digest.endTime) > Date.parse(previous.nextBy))
    return broken(
      `gap ${previous.endTime}–${digest.endTime}`,
      `no signed digest between digest ${n - 1} (${previous.endTime}) and digest ${n} (${digest.endTime}); the next was due by ${previous.nextBy}`,
    );
  return undefined;
}

/** Verifies the log; see the file comment for the order of the checks. */
export function verifyAudit(input: VerifyInput): Verification {
  const { storeDigests, storeName } = input;
  const table = new Map(input.tableDigests.map(({ at, digest }) => [at, digest]));
  const pending = input.tableDigests.filter(({ at }) => at > storeDigests.length).map(({ digest }) => digest);
  const chain = [...storeDigests, ...pending];
  if (chain.length === 0)
    return broken('digest 1', `no signed digest in ${storeName}: nothing vouches for the audit log`);
  const walk = new RecordWalk(input.records);
  for (const [index, digest] of chain.entries()) {
    const n = index + 1;
    const inStore = index < storeDigests.length;
    const wrong = checkDigest(digest, chain[index - 1], input, {
      n,
      source: inStore ? storeName : 'the audit table',
    });
    if (wrong !== undefined) return wrong;
    const record = walk.until(digest.toSeq, digest);
    if (record !== undefined) return record;
    if (digest.headHash !== walk.hash)
      return broken(`digest ${n}`, `digest ${n} names a head other than record ${digest.toSeq}`);
    if (!inStore) continue;
    const copy = table.get(n);
    if (copy === undefined)
      return broken(`digest ${n}`, `digest ${n} is missing from the audit table (${storeName} holds it)`);
    if (!sameDigest(copy, digest))
      return broken(`digest ${n}`, `digest ${n} in the audit table differs from the one in ${storeName}`);
  }
  const last = chain.at(-1) as AuditDigest;
  const tail = walk.until(input.records.length);
  if (tail !== undefined) return tail;
  const { head } = input;
  if (head.seq !== walk.count || head.hash !== walk.hash)
    return broken(
      'head',
      `the chain head names record ${head.seq}, but the log ends at record ${walk.count}${head.seq === walk.count ? ' with another hash' : ''}`,
    );
  if (head.digest !== last.seq)
    return broken('head', `the chain head names digest ${head.digest}, but the newest digest is ${last.seq}`);
  if (last.reason === 'stop' && walk.count > last.toSeq)
    return broken(
      `record ${last.toSeq + 1}`,
      `record ${last.toSeq + 1} appeared after the audit runtime stopped`,
    );
  if (last.reason !== 'stop' && input.now > Date.parse(last.nextBy))
    return broken(
      `gap ${last.endTime}–${new Date(input.now).toISOString()}`,
      `no signed digest since digest ${last.seq} (${last.endTime}); the next was due by ${last.nextBy}`,
    );
  return {
    ok: true,
    records: walk.count,
    digests: chain.length,
    unsealed: walk.count - last.toSeq,
    sealedAt: last.endTime,
  };
}
