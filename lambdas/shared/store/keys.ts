/**
 * Persistence of Tollgate API keys. Only hashes are stored; plaintext leaves through return values once.
 *
 * The reads the request path needs are {@link KeyReader}'s (`key-reader.ts`); this module adds the writes.
 * Over 300 lines because it is one class over one table's changes: the item layout, the conditional
 * writes and their audit stamps are private to it.
 */
import { issueKey, KEY_ID_LENGTH, randomBase62 } from '../keys.ts';
import { ConflictError, InvalidError } from '../operations/errors.ts';
import { type Actor, type AuditAction, type Change, newChange } from './attribution.ts';
import {
  ConcurrentChangeError,
  cancellationCodes,
  type DocumentDb,
  isConditionalCheckFailed,
  RecordNotFoundError,
  scanPages,
} from './db.ts';
import {
  IMPORTED_INDEX_ID,
  isKeyId,
  type KeyItem,
  type KeyLimits,
  KeyReader,
  type KeyStatus,
  type KeyView,
  view,
} from './key-reader.ts';
import { checkKeyInput } from './limits.ts';
import { changeSplit, type MonthBegun } from './shards.ts';
import { teamMark } from './team-mark.ts';

export {
  IMPORTED_INDEX_ID,
  type KeyLimits,
  type KeyStatus,
  type KeyView,
} from './key-reader.ts';

/** A change to a key's name, scope or limits; `null` removes a limit, the team or the expiry. */
export interface KeyPatch {
  name?: string;
  models?: string[];
  credentials?: string[] | null;
  teamId?: string | null;
  monthlyLimitMicros?: number | null;
  rpm?: number | null;
  tpm?: number | null;
  expiresAt?: string | null;
}

/** Options for a new key. */
export interface CreateKeyInput extends KeyLimits {
  name: string;
  models?: string[];
  credentials?: string[];
  teamId?: string;
  expiresAt?: string;
}

/** How a store is used: who makes the changes (required for any write) and the clock. */
export interface StoreOptions {
  actor?: Actor | undefined;
  now?: () => Date;
  /** The teams table, which a key placed in a team marks in the same transaction (`team-mark.ts`). */
  teamsTable?: string | undefined;
}

function optional<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Keys table access: the reads of {@link KeyReader}, and every change, each stamped for the audit log. */
export class KeyStore extends KeyReader {
  private readonly prefix: string;
  private readonly actor: Actor | undefined;
  private readonly teamsTable: string | undefined;

  constructor(db: DocumentDb, table: string, prefix: string, options: StoreOptions = {}) {
    super(db, table, options.now);
    this.prefix = prefix;
    this.actor = options.actor;
    this.teamsTable = options.teamsTable;
  }

  /** The team mark for a key placed in `teamId`, or none. */
  private joining(teamId: string | undefined, change: Change) {
    if (teamId === undefined) return [];
    if (this.teamsTable === undefined) throw new Error('this KeyStore was built without the teams table');
    return [teamMark(this.teamsTable, teamId, change)];
  }

  private change(action: AuditAction, extra: { changeId?: string; cascade?: boolean } = {}): Change {
    return newChange(this.actor, action, { ...extra, at: this.now() });
  }

  /** Creates a key; the plaintext in the result is the only copy that will ever exist. */
  async create(input: CreateKeyInput): Promise<{ key: KeyView; plaintext: string }> {
    const lastChange = this.change('key.create');
    checkKeyInput(input);
    const issued = issueKey(this.prefix);
    const item = this.newItem(issued.keyId, input, issued.hash, lastChange);
    const put = { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(keyId)' };
    if (input.teamId === undefined) await this.db.put(put);
    else {
      try {
        await this.db.transactWrite({
          TransactItems: [{ Put: put }, ...this.joining(input.teamId, lastChange)],
        });
      } catch (err) {
        if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed')
          throw new RecordNotFoundError('team', input.teamId);
        throw err;
      }
    }
    return { key: view(item), plaintext: issued.plaintext };
  }

  /**
   * Imports a key issued elsewhere by its SHA-256 (`label:sha256hex`). The key keeps whatever format it
   * has; the hash goes into the imported-key index the authorizer and proxy consult for foreign formats.
   */
  async importHash(
    label: string,
    sha256hex: string,
    input: Omit<CreateKeyInput, 'name'> = {},
  ): Promise<KeyView> {
    const lastChange = this.change('key.import');
    if (!/^[0-9a-f]{64}$/.test(sha256hex))
      throw new InvalidError(`'${sha256hex.slice(0, 16)}…' is not a lowercase hex SHA-256`);
    checkKeyInput({ ...input, name: label });
    const index = await this.importedIndex(true);
    if (Object.hasOwn(index, sha256hex))
      throw new ConflictError(`a key with hash ${sha256hex.slice(0, 12)}… is already imported`);
    const keyId = randomBase62(KEY_ID_LENGTH);
    const item: KeyItem = {
      ...this.newItem(keyId, { ...input, name: label }, sha256hex, lastChange),
      imported: true,
    };
    // The key and its index entry together or not at all; of two imports of one hash racing past the
    // read above, only the first claims it.
    try {
      await this.db.transactWrite({
        TransactItems: [
          {
            Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(keyId)' },
          },
          {
            Update: {
              TableName: this.table,
              Key: { keyId: IMPORTED_INDEX_ID },
              UpdateExpression: 'SET hashes.#h = :id, lastChange = :change',
              ConditionExpression: 'attribute_exists(hashes) AND attribute_not_exists(hashes.#h)',
              ExpressionAttributeNames: { '#h': sha256hex },
              ExpressionAttributeValues: { ':id': keyId, ':change': { ...lastChange, cascade: true } },
            },
          },
          ...this.joining(input.teamId, lastChange),
        ],
      });
    } catch (err) {
      if (input.teamId !== undefined && cancellationCodes(err)?.[2] === 'ConditionalCheckFailed')
        throw new RecordNotFoundError('team', input.teamId);
      if (cancellationCodes(err) !== undefined)
        throw new ConcurrentChangeError('imported key hash', `${sha256hex.slice(0, 12)}…`, { cause: err });
      throw err;
    }
    return view(item);
  }

  /** Imported hashes to key ids. `ensure` creates the index item when missing. */
  override async importedIndex(ensure = false): Promise<Record<string, string>> {
    const hashes = await this.readIndex();
    if (hashes !== undefined) return hashes;
    if (ensure) {
      await this.db
        .put({
          TableName: this.table,
          Item: {
            keyId: IMPORTED_INDEX_ID,
            hashes: {},
            lastChange: this.change('key.import', { cascade: true }),
          },
          ConditionExpression: 'attribute_not_exists(keyId)',
        })
        .catch((err: unknown) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    }
    return {};
  }

  /** Every key, oldest first. */
  async list(filter: { teamId?: string } = {}): Promise<KeyView[]> {
    const keys: KeyView[] = [];
    for await (const page of scanPages(this.db, { TableName: this.table, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        if (item.keyId === IMPORTED_INDEX_ID) continue;
        if (filter.teamId !== undefined && item.teamId !== filter.teamId) continue;
        keys.push(view(item as KeyItem));
      }
    }
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Disables or re-enables a key. */
  async setStatus(keyId: string, status: KeyStatus): Promise<KeyView> {
    const lastChange = this.change(status === 'disabled' ? 'key.disable' : 'key.enable');
    return this.update(keyId, {
      expression: 'SET #status = :status, updatedAt = :at, lastChange = :change',
      names: { '#status': 'status' },
      values: { ':status': status, ':change': lastChange },
    });
  }

  /** Changes the name, scope or limits of a key; what the patch leaves out stays. */
  async edit(keyId: string, patch: KeyPatch): Promise<KeyView> {
    const lastChange = this.change('key.update');
    const set = ['updatedAt = :at', 'lastChange = :change'];
    const remove: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':change': lastChange };
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      if (value === null) remove.push(`#${field}`);
      else {
        set.push(`#${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    const expression = `SET ${set.join(', ')}${remove.length === 0 ? '' : ` REMOVE ${remove.join(', ')}`}`;
    return this.update(keyId, {
      expression,
      names: Object.keys(names).length === 0 ? undefined : names,
      values,
      joining: typeof patch.teamId === 'string' ? patch.teamId : undefined,
    });
  }

  /**
   * Splits the key's monthly counters over `count` shards from the next month on (a running month keeps
   * its split, so it is never admitted against two; see `shards.ts`). `begun` tells a month admissions
   * have begun counting (`Meter.monthBegun`).
   */
  async setShards(keyId: string, count: number, begun?: MonthBegun): Promise<KeyView> {
    const lastChange = this.change('key.update');
    return changeSplit(
      { count, at: new Date(lastChange.at), initial: 1, ...(begun === undefined ? {} : { begun }) },
      (split) =>
        this.update(keyId, {
          expression: `SET ${split.set.join(', ')}, updatedAt = :at, lastChange = :change`,
          // Every count any month may use, so reads over all months (`keyStats`) find every shard.
          add: ['everShards :ever'],
          values: { ...split.values, ':change': lastChange, ':ever': new Set([count]) },
          expected: split.condition,
        }),
      // The key exists and the other case's condition holds (a missing key is RecordNotFoundError).
      (err) => err instanceof ConcurrentChangeError,
    );
  }

  /**
   * Replaces the secret: id, name, scope and history stay. The old secret stops working at once, or after
   * `graceMs` when given (an overlap for clients to switch, as trusted issuers allow).
   */
  async rotate(keyId: string, graceMs = 0): Promise<{ key: KeyView; plaintext: string }> {
    const lastChange = this.change('key.rotate');
    const current = await this.item(keyId);
    if (current === undefined) throw new RecordNotFoundError('key', keyId);
    if (current.imported === true)
      throw new InvalidError('an imported key cannot be rotated: import a new hash');
    const issued = issueKey(this.prefix, keyId);
    const at = this.now();
    const expression =
      graceMs > 0
        ? 'SET keyHash = :hash, previousKeyHash = :old, previousValidUntil = :until, rotatedAt = :at, updatedAt = :at, lastChange = :change'
        : 'SET keyHash = :hash, rotatedAt = :at, updatedAt = :at, lastChange = :change REMOVE previousKeyHash, previousValidUntil';
    const values: Record<string, unknown> = {
      ':hash': issued.hash,
      ':change': lastChange,
      ':read': current.keyHash,
    };
    if (graceMs > 0) {
      values[':old'] = current.keyHash;
      values[':until'] = new Date(at.getTime() + graceMs).toISOString();
    }
    // Only over the secret this rotation read: of two racing rotations one wins, the other hands out nothing.
    const key = await this.update(keyId, { expression, values, expected: 'keyHash = :read' });
    return { key, plaintext: issued.plaintext };
  }

  /** Deletes the key item (and its imported-index entry); the request log survives elsewhere. */
  async delete(keyId: string): Promise<void> {
    const lastChange = this.change('key.delete');
    // Stamp the deleter first: the stream's REMOVE record carries only the old image.
    await this.update(keyId, {
      expression: 'SET lastChange = :change, updatedAt = :at',
      values: { ':change': lastChange },
    });
    const old = await this.deleteStamped(keyId, lastChange);
    if (old?.imported === true) {
      await this.db.update({
        TableName: this.table,
        Key: { keyId: IMPORTED_INDEX_ID },
        UpdateExpression: 'REMOVE hashes.#h SET lastChange = :change',
        ExpressionAttributeNames: { '#h': old.keyHash },
        ExpressionAttributeValues: { ':change': { ...lastChange, cascade: true } },
      });
    }
  }

  private newItem(keyId: string, input: CreateKeyInput, hash: string, lastChange: Change): KeyItem {
    const at = this.now().toISOString();
    return {
      keyId,
      name: input.name,
      keyHash: hash,
      status: 'active',
      models: input.models ?? [],
      createdAt: at,
      updatedAt: at,
      lastChange,
      ...optional({
        teamId: input.teamId,
        credentials: input.credentials,
        expiresAt: input.expiresAt,
        monthlyLimitMicros: input.monthlyLimitMicros,
        rpm: input.rpm,
        tpm: input.tpm,
      }),
    };
  }

  /** Deletes the item only while it still carries this delete's stamp, so no other change is lost unaudited. */
  private async deleteStamped(keyId: string, lastChange: Change): Promise<KeyItem | undefined> {
    try {
      const out = await this.db.delete({
        TableName: this.table,
        Key: { keyId },
        ConditionExpression: 'lastChange.changeId = :changeId',
        ExpressionAttributeValues: { ':changeId': lastChange.changeId },
        ReturnValues: 'ALL_OLD',
      });
      return out.Attributes as KeyItem | undefined;
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw await this.lostRace(keyId, err);
      throw err;
    }
  }

  /** Why a conditional write found nothing to change: the key is gone, or someone changed it first. */
  private async lostRace(keyId: string, cause: unknown): Promise<Error> {
    return (await this.item(keyId)) === undefined
      ? new RecordNotFoundError('key', keyId)
      : new ConcurrentChangeError('key', keyId, { cause });
  }

  /**
   * One conditional update of a key. A key moved into a team (`joining`) marks the team in the same
   * transaction, so the move cannot race the team's delete (`team-mark.ts`).
   */
  private async update(
    keyId: string,
    change: {
      expression: string;
      names?: Record<string, string> | undefined;
      values: Record<string, unknown>;
      expected?: string;
      joining?: string | undefined;
      /** More `ADD` clauses beside the revision's. */
      add?: string[];
    },
  ): Promise<KeyView> {
    const { expression, names, values, expected, joining, add = [] } = change;
    if (!isKeyId(keyId)) throw new RecordNotFoundError('key', keyId);
    const update = {
      TableName: this.table,
      Key: { keyId },
      // Every change counts in `rev`, which admission compares with the authorizer's cached context.
      UpdateExpression: `${expression} ADD ${[...add, 'rev :one'].join(', ')}`,
      ConditionExpression:
        expected === undefined ? 'attribute_exists(keyId)' : `attribute_exists(keyId) AND ${expected}`,
      ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
      ExpressionAttributeValues: { ...values, ':at': this.now().toISOString(), ':one': 1 },
    };
    try {
      if (joining === undefined) {
        const result = await this.db.update({ ...update, ReturnValues: 'ALL_NEW' });
        return view(result.Attributes as KeyItem);
      }
      const lastChange = values[':change'] as Change;
      await this.db.transactWrite({
        TransactItems: [{ Update: update }, ...this.joining(joining, lastChange)],
      });
      return view((await this.item(keyId)) as KeyItem);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw await this.lostRace(keyId, err);
      const codes = cancellationCodes(err);
      if (codes?.[1] === 'ConditionalCheckFailed') throw new RecordNotFoundError('team', joining ?? '');
      if (codes?.[0] === 'ConditionalCheckFailed') throw await this.lostRace(keyId, err);
      throw err;
    }
  }
}
