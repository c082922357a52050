/**
 * The append-only, hash-chained audit log.
 *
 * One chain for all tables and shards: each record carries `prevHash`, the hash of the record before it,
 * and its own `hash` over its content. An append is one transaction that writes the record, moves the
 * chain head from `seq` to `seq + 1` on condition that it is still at `seq`, and claims the stream event
 * id; so two shards appending at once cannot both extend the same head (one retries on the new head), and
 * a replayed stream event adds nothing. Every `digestEvery` records a digest of the head is signed
 * (ECDSA P-256), chaining the previous digest's signature, so a verifier with only the public key can
 * check the log — editing, deleting, reordering a record, or forging a digest, all break verification.
 */
import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { InputError } from '../inputs.ts';
import { cancellationCodes } from '../store/db.ts';
import type { AuditEntry } from './entries.ts';
import { type Signer, verifySignature } from './signer.ts';

const CHAIN = 'chain';
const HEAD = 'head';
const GENESIS = '0'.repeat(64);
const seqKey = (prefix: 'rec' | 'dig', seq: number): string => `${prefix}#${String(seq).padStart(12, '0')}`;

/** A chained audit record. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** A signed digest of the chain up to `seq`. */
export interface AuditDigest {
  seq: number;
  lastHash: string;
  at: string;
  previousSignature: string | null;
  signature: string;
  keyId: string;
}

/** The outcome of `verify`. */
export type Verification =
  | { ok: true; records: number; digests: number }
  | { ok: false; record: number; reason: string };

/** Stable JSON: object keys sorted at every depth. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash a record must carry: SHA-256 over everything in it but the hash itself. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonical(record)).digest('hex');
}

function digestMessage(d: Omit<AuditDigest, 'signature' | 'keyId'>): Buffer {
  return Buffer.from(
    canonical({ seq: d.seq, lastHash: d.lastHash, at: d.at, previousSignature: d.previousSignature }),
  );
}

/** Filters of an audit listing; `action` matches a prefix (`key.` or `key.create`). */
export interface AuditFilters {
  since?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  action?: string | undefined;
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
  return records.filter(
    (r) =>
      (since === undefined || r.time >= since) &&
      (filters.actor === undefined || r.actor === filters.actor) &&
      (filters.target === undefined || r.target.id === filters.target) &&
      (filters.action === undefined || r.action.startsWith(filters.action)),
  );
}

/** Audit table access. Only the audit function holds write permission on the table. */
export class AuditLog {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.db = db;
    this.table = table;
  }

  /**
   * Appends one entry to the chain, exactly once per stream event id.
   * @returns the new record, or `undefined` when the event was already recorded.
   */
  async append(
    entry: AuditEntry,
    signer: Signer | undefined,
    digestEvery: number,
  ): Promise<AuditRecord | undefined> {
    for (let attempt = 1; attempt <= 50; attempt++) {
      const head = await this.head();
      const seq = head.seq + 1;
      const unsigned: Omit<AuditRecord, 'hash'> = { ...entry, seq, prevHash: head.hash };
      const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned) };
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
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
                  Item: { pk: CHAIN, sk: seqKey('rec', seq), ...record, diff: JSON.stringify(record.diff) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              head.seq === 0
                ? {
                    Put: {
                      TableName: this.table,
                      Item: { pk: CHAIN, sk: HEAD, seq, hash: record.hash },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  }
                : {
                    Put: {
                      TableName: this.table,
                      Item: { pk: CHAIN, sk: HEAD, seq, hash: record.hash },
                      ConditionExpression: 'seq = :seq',
                      ExpressionAttributeValues: { ':seq': head.seq },
                    },
                  },
            ],
          }),
        );
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.[0] === 'ConditionalCheckFailed') return undefined;
        // Another shard moved the head first: build on the new head.
        if (codes?.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict') === true) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          continue;
        }
        throw err;
      }
      if (signer !== undefined && digestEvery > 0 && seq % digestEvery === 0) await this.sign(record, signer);
      return record;
    }
    throw new Error('could not append to the audit chain: too much contention');
  }

  /** Signs a digest of the chain up to `record`, linking the previous digest. */
  async sign(record: AuditRecord, signer: Signer): Promise<AuditDigest> {
    const previous = await this.lastDigest();
    const unsigned = {
      seq: record.seq,
      lastHash: record.hash,
      at: new Date().toISOString(),
      previousSignature: previous?.signature ?? null,
    };
    const digest: AuditDigest = {
      ...unsigned,
      signature: (await signer.sign(digestMessage(unsigned))).toString('base64'),
      keyId: signer.keyId,
    };
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: CHAIN, sk: seqKey('dig', record.seq), ...digest },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return digest;
  }

  /** The chain head: the last sequence number and hash. */
  async head(): Promise<{ seq: number; hash: string }> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: CHAIN, sk: HEAD }, ConsistentRead: true }),
    );
    return out.Item === undefined
      ? { seq: 0, hash: GENESIS }
      : { seq: Number(out.Item.seq), hash: String(out.Item.hash) };
  }

  /** Every record in chain order. */
  async records(): Promise<AuditRecord[]> {
    return (await this.query('rec#')).map(
      (item) => ({ ...item, diff: JSON.parse(String(item.diff)) }) as unknown as AuditRecord,
    );
  }

  /** The newest digest, read alone: signing must not grow with the length of the log. */
  private async lastDigest(): Promise<AuditDigest | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': CHAIN, ':prefix': 'dig#' },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return out.Items?.[0] as AuditDigest | undefined;
  }

  /** Every digest in chain order. */
  async digests(): Promise<AuditDigest[]> {
    return (await this.query('dig#')) as unknown as AuditDigest[];
  }

  /**
   * Walks the chain and the digests: contiguous sequence numbers, each record's hash over its content,
   * each `prevHash` linking its predecessor, the head matching the last record, each digest signed by the
   * public key over the hash of the record it names, digests linked to each other.
   */
  async verify(publicKeyPem: string): Promise<Verification> {
    const records = await this.records();
    const head = await this.head();
    let previous = GENESIS;
    const hashes = new Map<number, string>();
    for (const [index, record] of records.entries()) {
      const expected = index + 1;
      if (record.seq !== expected)
        return { ok: false, record: expected, reason: `record ${expected} is missing or out of order` };
      if (record.prevHash !== previous)
        return {
          ok: false,
          record: expected,
          reason: `record ${expected} does not follow record ${expected - 1}`,
        };
      const { hash, ...content } = record;
      if (recordHash(content) !== hash)
        return { ok: false, record: expected, reason: `record ${expected} was edited` };
      previous = hash;
      hashes.set(record.seq, hash);
    }
    if (head.seq !== records.length || head.hash !== previous) {
      return {
        ok: false,
        record: records.length + 1,
        reason: `the chain head names record ${head.seq}, but the log ends at record ${records.length}`,
      };
    }
    const digests = await this.digests();
    let previousSignature: string | null = null;
    for (const digest of digests) {
      const message = digestMessage({
        seq: digest.seq,
        lastHash: digest.lastHash,
        at: digest.at,
        previousSignature: digest.previousSignature,
      });
      if (!verifySignature(publicKeyPem, message, Buffer.from(digest.signature, 'base64'))) {
        return {
          ok: false,
          record: digest.seq,
          reason: `the digest at record ${digest.seq} has no valid signature`,
        };
      }
      if (hashes.get(digest.seq) !== digest.lastHash)
        return {
          ok: false,
          record: digest.seq,
          reason: `record ${digest.seq} does not match its signed digest`,
        };
      if (digest.previousSignature !== previousSignature)
        return {
          ok: false,
          record: digest.seq,
          reason: `the digest at record ${digest.seq} does not follow the previous digest`,
        };
      previousSignature = digest.signature;
    }
    return { ok: true, records: records.length, digests: digests.length };
  }

  private async query(prefix: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': CHAIN, ':prefix': prefix },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, ...rest } = item;
        items.push(rest);
      }
    }
    return items;
  }
}
