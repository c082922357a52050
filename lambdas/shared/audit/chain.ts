/**
 * The append-only, hash-chained audit log and its sealing.
 *
 * One chain for all tables and shards: each record carries `prevHash`, the hash of the record before it,
 * and its own `hash` over its content. An append is one transaction that writes the record, moves the
 * chain head from `seq` to `seq + 1` on condition that it is still at `seq`, and claims the stream event
 * id; so two shards appending at once cannot both extend the same head (one retries on the new head), and
 * a replayed stream event adds nothing.
 *
 * Sealing signs a digest (see `digests.ts`) of the records since the previous digest: when `digestEvery`
 * records are unsealed, on a schedule every `intervalMs` whether or not anything happened, and when the
 * local runtime stops. The digest goes to the audit table in one transaction with the head's note of it
 * (so it names exactly the head it covers), then to the digest store; a digest the store missed (a crash
 * between the two) is published by the next sealing. `verify.ts` checks the whole against the store.
 *
 * Over 300 lines: appending and sealing are one conditional protocol on the head item (appends move
 * `seq`/`hash`, sealing moves `digest`/`sealed` only while `seq` is what it signed), best read in one place.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../inputs.ts';
import { cancellationCodes, type DocumentDb, queryPages } from '../store/db.ts';
import { GENESIS, recordHash } from './canonical.ts';
import { type AuditDigest, type DigestReason, type DigestStore, digestMessage } from './digests.ts';
import type { AuditEntry } from './entries.ts';
import type { AuditRecord, ChainHead } from './records.ts';
import { type Signer, verifySignature } from './signer.ts';
import { type Verification, verifyAudit } from './verify.ts';

export { canonical, recordHash } from './canonical.ts';
export type { AuditDigest } from './digests.ts';
export type { AuditRecord, ChainHead } from './records.ts';
export type { Verification } from './verify.ts';

const CHAIN = 'chain';
const HEAD = 'head';
const pad = (n: number): string => String(n).padStart(12, '0');
const recordKey = (seq: number): string => `rec#${pad(seq)}`;
const digestKey = (seq: number): string => `digest#${pad(seq)}`;

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;
const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));

/** Time allowed past a digest's interval before the missing next digest counts as a gap. */
export const DIGEST_SLACK_MS = 5 * 60_000;

/** How to seal: the key, the clock and the schedule. */
export interface SealOptions {
  signer: Signer;
  now: number;
  /** At least one digest this often (ms). */
  intervalMs: number;
  reason: DigestReason;
}

/**
 * Filters of an audit listing; `action` matches a prefix (`key.` or `key.create`); `target` is an id or a
 * name a key or team bore in any record, so a deleted or renamed one is still found by its name (every
 * key that bore it: a listing shows them all rather than refuse, as acting on a name would).
 */
export interface AuditFilters {
  since?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  action?: string | undefined;
}

/** The target ids `target` names: itself, and every item whose records show it under that name. */
function targetIds(records: AuditRecord[], target: string): Set<string> {
  // From the log itself, not the stores: the item may be gone, or renamed since, and its history still wanted.
  const ids = new Set([target]);
  for (const r of records) {
    const name = r.diff.name;
    // Keys and teams only: names elsewhere (aliases, credential labels) are not what an operator means here.
    const named = r.target.table === 'keys' || r.target.table === 'teams';
    if (named && name !== undefined && (name.before === target || name.after === target))
      ids.add(r.target.id);
  }
  return ids;
}

/**
 * Records matching every given filter; shared by `tollgate audit list` and `GET /admin/audit`.
 * @throws {InputError} when `since` is not a date (`sinceName` names the option in the message).
 */
export function filterAuditRecords(
  records: AuditRecord[],
  filters: AuditFilters,
  sinceName: string,
): AuditRecord[] {
  let since: string | undefined;
  if (filters.since !== undefined) {
    const at = new Date(filters.since);
    if (Number.isNaN(at.getTime())) throw new InputError(`${sinceName} '${filters.since}' is not a date`);
    since = at.toISOString();
  }
  const targets = filters.target === undefined ? undefined : targetIds(records, filters.target);
  return records.filter(
    (r) =>
      (since === undefined || r.time >= since) &&
      (filters.actor === undefined || r.actor === filters.actor) &&
      (targets === undefined || targets.has(r.target.id)) &&
      (filters.action === undefined || r.action.startsWith(filters.action)),
  );
}

/** Audit table access. Only the audit function holds write permission on the table. */
export class AuditLog {
  private readonly db: DocumentDb;
  private readonly table: string;
  private readonly store: DigestStore;
  private publicKey: Promise<string> | undefined;

  constructor(db: DocumentDb, table: string, store: DigestStore) {
    this.db = db;
    this.table = table;
    this.store = store;
  }

  /**
   * Appends one entry to the chain, exactly once per stream event id.
   * @returns the new record, or `undefined` when the event was already recorded.
   */
  async append(entry: AuditEntry): Promise<AuditRecord | undefined> {
    for (let attempt = 1; attempt <= 50; attempt++) {
      const head = await this.head();
      const seq = head.seq + 1;
      const unsigned: Omit<AuditRecord, 'hash'> = { ...entry, seq, prevHash: head.hash };
      const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned) };
      const lost = await this.transact([
        {
          Put: {
            TableName: this.table,
            Item: { pk: `event#${entry.eventId}`, sk: 'event', seq },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: { pk: CHAIN, sk: recordKey(seq), ...record, diff: JSON.stringify(record.diff) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          // An update, not a put: the head's note of the newest digest belongs to sealing.
          Update: {
            TableName: this.table,
            Key: { pk: CHAIN, sk: HEAD },
            UpdateExpression: 'SET #seq = :next, #hash = :hash',
            ConditionExpression: 'attribute_not_exists(#seq) OR #seq = :seq',
            ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
            ExpressionAttributeValues: { ':next': seq, ':hash': record.hash, ':seq': head.seq },
          },
        },
      ]);
      if (lost === undefined) return record;
      if (lost[0] === 'ConditionalCheckFailed') return undefined;
      // Another shard moved the head first: build on the new head.
      await backoff(attempt);
    }
    throw new Error('could not append to the audit chain: too much contention');
  }

  /**
   * Seals when a digest is due: none yet, `digestEvery` records unsealed, or `intervalMs` since the last.
   * Called after every append, replays included, so a digest a crash interrupted is signed on the replay.
   */
  async sealIfDue(
    options: Omit<SealOptions, 'reason'> & { digestEvery: number },
  ): Promise<AuditDigest | undefined> {
    const byCount = (head: ChainHead): boolean =>
      options.digestEvery > 0 && head.seq - head.sealed >= options.digestEvery;
    const byTime = (head: ChainHead): boolean =>
      head.digest === 0 || options.now - head.sealedAt >= options.intervalMs;
    const head = await this.head();
    if (!byCount(head) && !byTime(head)) return undefined;
    // Re-judged on every attempt: a racing sealer may have done the work already.
    return this.seal(
      { ...options, reason: byCount(head) ? 'count' : 'schedule' },
      (h) => byCount(h) || byTime(h),
    );
  }

  /**
   * Signs a digest of everything since the previous one, into the table and then the digest store.
   * @param due when given, judged on the head each attempt reads: no digest (`undefined`) once it says no.
   */
  async seal(options: SealOptions, due?: (head: ChainHead) => boolean): Promise<AuditDigest | undefined> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const head = await this.head();
      if (due !== undefined && !due(head)) return undefined;
      const previous = head.digest === 0 ? undefined : await this.publishPending(head.digest, options.signer);
      const fromSeq = (previous?.toSeq ?? 0) + 1;
      const covered = head.seq >= fromSeq ? await this.recordsBetween(fromSeq, head.seq) : [];
      if (covered.length !== head.seq - fromSeq + 1 || (covered.at(-1)?.hash ?? head.hash) !== head.hash)
        throw new Error(
          `the audit chain between records ${fromSeq} and ${head.seq} is broken: not sealing it`,
        );
      // Never before the previous digest, whatever the clock says: time in the chain only moves forward.
      const end = Math.max(options.now, previous === undefined ? 0 : Date.parse(previous.endTime));
      const endTime = new Date(end).toISOString();
      const unsigned: Omit<AuditDigest, 'signature'> = {
        seq: head.digest + 1,
        fromSeq,
        toSeq: head.seq,
        hashes: covered.map((r) => r.hash),
        headHash: head.seq === 0 ? GENESIS : head.hash,
        startTime: previous?.endTime ?? endTime,
        endTime,
        nextBy: new Date(end + options.intervalMs + DIGEST_SLACK_MS).toISOString(),
        reason: options.reason,
        previousSignature: previous?.signature ?? null,
        keyId: options.signer.keyId,
      };
      const digest: AuditDigest = {
        ...unsigned,
        signature: (await options.signer.sign(digestMessage(unsigned))).toString('base64'),
      };
      const lost = await this.transact([
        {
          Put: {
            TableName: this.table,
            Item: { pk: CHAIN, sk: digestKey(digest.seq), ...digest },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          // The digest names exactly this head: an append in between makes us sign again.
          Update: {
            TableName: this.table,
            Key: { pk: CHAIN, sk: HEAD },
            UpdateExpression:
              'SET #seq = if_not_exists(#seq, :zero), #hash = if_not_exists(#hash, :genesis), #digest = :digest, #sealed = :sealed, #sealedAt = :sealedAt',
            ConditionExpression: `(attribute_not_exists(#seq) OR #seq = :sealed) AND ${
              head.digest === 0 ? 'attribute_not_exists(#digest)' : '#digest = :previous'
            }`,
            ExpressionAttributeNames: {
              '#seq': 'seq',
              '#hash': 'hash',
              '#digest': 'digest',
              '#sealed': 'sealed',
              '#sealedAt': 'sealedAt',
            },
            ExpressionAttributeValues: {
              ':zero': 0,
              ':genesis': GENESIS,
              ':digest': digest.seq,
              ':sealed': head.seq,
              ':sealedAt': end,
              ...(head.digest === 0 ? {} : { ':previous': head.digest }),
            },
          },
        },
      ]);
      if (lost === undefined) {
        await this.store.put(digest);
        return digest;
      }
      await backoff(attempt);
    }
    throw new Error('could not seal the audit chain: too much contention');
  }

  /** The table's newest digest, published to the store if a crash kept it from there; never a forgery. */
  private async publishPending(seq: number, signer: Signer): Promise<AuditDigest> {
    const digest = await this.tableDigest(seq);
    if (digest === undefined)
      throw new Error(`digest ${seq}, the newest the chain head names, is missing from the audit table`);
    this.publicKey ??= signer.publicKeyPem();
    if (
      digest.seq !== seq ||
      !verifySignature(await this.publicKey, digestMessage(digest), Buffer.from(digest.signature, 'base64'))
    )
      throw new Error(`digest ${seq} in the audit table is not the one that was signed: not publishing it`);
    await this.store.put(digest);
    return digest;
  }

  /** Runs a transaction: `undefined` when it went through, the cancellation codes when a race was lost. */
  private async transact(items: TransactItems): Promise<Array<string | undefined> | undefined> {
    try {
      await this.db.transactWrite({ TransactItems: items });
      return undefined;
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict') === true)
        return codes;
      throw err;
    }
  }

  /** The chain head. */
  async head(): Promise<ChainHead> {
    const out = await this.db.get({
      TableName: this.table,
      Key: { pk: CHAIN, sk: HEAD },
      ConsistentRead: true,
    });
    const item = out.Item ?? {};
    return {
      seq: Number(item.seq ?? 0),
      hash: String(item.hash ?? GENESIS),
      digest: Number(item.digest ?? 0),
      sealed: Number(item.sealed ?? 0),
      sealedAt: Number(item.sealedAt ?? 0),
    };
  }

  /** Every record in chain order. */
  async records(): Promise<AuditRecord[]> {
    return (await this.query('rec#')).map(toRecord);
  }

  private async recordsBetween(from: number, to: number): Promise<AuditRecord[]> {
    return (await this.query(recordKey(from), recordKey(to))).map(toRecord);
  }

  private async tableDigest(seq: number): Promise<AuditDigest | undefined> {
    const out = await this.db.get({
      TableName: this.table,
      Key: { pk: CHAIN, sk: digestKey(seq) },
      ConsistentRead: true,
    });
    if (out.Item === undefined) return undefined;
    const { pk: _pk, sk: _sk, ...digest } = out.Item;
    return digest as AuditDigest;
  }

  /** The table's digests, each with the number its key gives it. */
  async digests(): Promise<Array<{ at: number; digest: AuditDigest }>> {
    return (await this.query('digest#', undefined, true)).map((item) => {
      const { sk, ...digest } = item;
      return { at: Number(String(sk).slice('digest#'.length)), digest: digest as unknown as AuditDigest };
    });
  }

  /** Checks the table against the digest store; `now` bounds the coverage required. */
  async verify(publicKeyPem: string, now: number = Date.now()): Promise<Verification> {
    return verifyAudit({
      records: await this.records(),
      head: await this.head(),
      tableDigests: await this.digests(),
      storeDigests: await this.store.list(),
      storeName: this.store.name,
      publicKeyPem,
      now,
    });
  }

  /** Items of the chain whose sort key begins with `from`, or lies between `from` and `to`. */
  private async query(from: string, to?: string, keepSk = false): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    const pages = queryPages(this.db, {
      TableName: this.table,
      KeyConditionExpression:
        to === undefined ? 'pk = :pk AND begins_with(sk, :from)' : 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': CHAIN,
        ':from': from,
        ...(to === undefined ? {} : { ':to': to }),
      },
      ConsistentRead: true,
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk, ...rest } = item;
        items.push(keepSk ? { ...rest, sk } : rest);
      }
    }
    return items;
  }
}

function toRecord(item: Record<string, unknown>): AuditRecord {
  return { ...item, diff: JSON.parse(String(item.diff)) } as unknown as AuditRecord;
}
