/**
 * Reading Tollgate API keys: the authorizer's check and lookups by id. The request path needs nothing
 * else, so its bundles carry this module and not the writes of `KeyStore` (`keys.ts`).
 */
import { InvalidApiKeyError } from '../errors.ts';
import { hashesEqual } from '../keys.ts';
import type { Change } from './attribution.ts';
import { consistentBatchGet, type DocumentDb, type ItemRef, RecordNotFoundError } from './db.ts';
import { isStoredId } from './limits.ts';
import { type ShardSpec, shardSpecOf } from './shards.ts';

export type KeyStatus = 'active' | 'disabled';

/** Spend and rate limits of a key; absent means unlimited. Money is in micro-USD (1e-6 USD). */
export interface KeyLimits {
  monthlyLimitMicros?: number;
  rpm?: number;
  tpm?: number;
}

/** What a key looks like to operators and clients: everything but its hashes. */
export interface KeyView extends KeyLimits {
  keyId: string;
  name: string;
  status: KeyStatus;
  /** Allowed `provider/model` slugs or `provider/*`; empty means every model. */
  models: string[];
  /** Labels of the provider credentials its requests may use (over its team's); absent: any. */
  credentials?: string[];
  teamId?: string;
  createdAt: string;
  updatedAt: string;
  rotatedAt?: string;
  /** Until when the secret that was rotated away still works (`rotate --grace`). */
  previousValidUntil?: string;
  /** ISO time after which the key is refused. */
  expiresAt?: string;
  /** Imported as a pre-hashed key issued elsewhere. */
  imported?: boolean;
  /** Counts the changes to the item; the authorizer's cached context is checked against it. */
  rev?: number;
  /** How the key's month is split, for keys too busy for one counter (see `shards.ts`). */
  monthShards?: ShardSpec;
}

/** A key as stored: its view, its hashes and the change that last wrote it. */
export interface KeyItem extends KeyView {
  keyHash: string;
  previousKeyHash?: string;
  lastChange: Change;
}

/** The item listing imported keys' hashes, so a key of foreign format can be found without a scan. */
export const IMPORTED_INDEX_ID = '#imported-index';

/** Whether a key may have this id: a stored id, and not the imported-key index's. */
export const isKeyId = (keyId: string): boolean => keyId !== IMPORTED_INDEX_ID && isStoredId(keyId);

/** What of a stored key may be shown: not its hashes or stamp, its split's attributes as `monthShards`. */
export function view(item: KeyItem): KeyView {
  const { keyHash: _hash, previousKeyHash: _previous, lastChange: _change, ...rest } = item;
  const { shards, previousShards, shardsFrom, everShards, ...key } = rest as KeyView &
    Record<string, unknown>;
  const split = shardSpecOf({ shards, previousShards, shardsFrom, everShards });
  return { ...(key as KeyView), ...(split === undefined ? {} : { monthShards: split }) };
}

/** Reads of the keys table. */
export class KeyReader {
  readonly table: string;
  protected readonly db: DocumentDb;
  protected readonly now: () => Date;

  constructor(db: DocumentDb, table: string, now: () => Date = () => new Date()) {
    this.db = db;
    this.table = table;
    this.now = now;
  }

  /** Imported hashes to key ids (none while no key was imported). */
  async importedIndex(): Promise<Record<string, string>> {
    return (await this.readIndex()) ?? {};
  }

  /** The imported-key index item's hashes, or undefined when the item does not exist. */
  protected async readIndex(): Promise<Record<string, string> | undefined> {
    const out = await this.db.get({
      TableName: this.table,
      Key: { keyId: IMPORTED_INDEX_ID },
      ConsistentRead: true,
    });
    return out.Item === undefined ? undefined : (out.Item.hashes as Record<string, string>);
  }

  /** The key's public view, or undefined. */
  async get(keyId: string): Promise<KeyView | undefined> {
    const item = await this.item(keyId);
    return item === undefined ? undefined : view(item);
  }

  /** Like {@link get} but throws {@link RecordNotFoundError}. */
  async require(keyId: string): Promise<KeyView> {
    const key = await this.get(keyId);
    if (key === undefined) throw new RecordNotFoundError('key', keyId);
    return key;
  }

  /**
   * The authorizer's check: one strongly consistent read by key id, then constant-time comparison of the
   * hash (or, during a rotation grace period, the previous hash), status and expiry.
   * @throws {InvalidApiKeyError} for any refusal, with no hint of which check failed.
   */
  async authenticate(keyId: string, hash: string): Promise<KeyView> {
    return this.checked(await this.item(keyId), hash);
  }

  /**
   * {@link authenticate}, with one more item (the key's team) read consistently in the same round trip:
   * one `BatchGetItem` instead of two parallel reads, a call less on every request.
   */
  async authenticateAlong(
    keyId: string,
    hash: string,
    along: ItemRef,
  ): Promise<{ key: KeyView; along: Record<string, unknown> | undefined }> {
    if (!isKeyId(keyId)) throw new InvalidApiKeyError();
    const found = await consistentBatchGet(this.db, [{ table: this.table, key: { keyId } }, along]);
    return { key: this.checked(found[0] as KeyItem | undefined, hash), along: found[1] };
  }

  /** The key's view when the hash matches and the key may be used; otherwise the one refusal. */
  private checked(item: KeyItem | undefined, hash: string): KeyView {
    if (item === undefined || !this.hashMatches(item, hash) || !this.usable(item))
      throw new InvalidApiKeyError();
    return view(item);
  }

  private hashMatches(item: KeyItem, hash: string): boolean {
    if (hashesEqual(item.keyHash, hash)) return true;
    return (
      item.previousKeyHash !== undefined &&
      item.previousValidUntil !== undefined &&
      item.previousValidUntil > this.now().toISOString() &&
      hashesEqual(item.previousKeyHash, hash)
    );
  }

  private usable(item: KeyItem): boolean {
    return (
      item.status === 'active' && (item.expiresAt === undefined || item.expiresAt > this.now().toISOString())
    );
  }

  protected async item(keyId: string): Promise<KeyItem | undefined> {
    // An id no key can have is absent without a read (and never reaches DynamoDB's key-size limits).
    if (!isKeyId(keyId)) return undefined;
    const result = await this.db.get({ TableName: this.table, Key: { keyId }, ConsistentRead: true });
    return result.Item as KeyItem | undefined;
  }
}
