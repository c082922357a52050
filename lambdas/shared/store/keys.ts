/** Persistence of Tollgate API keys. Only hashes are stored; plaintext leaves through return values once. */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { InvalidApiKeyError } from '../errors.ts';
import { hashesEqual, issueKey } from '../keys.ts';
import { isConditionalCheckFailed, RecordNotFoundError } from './db.ts';

export type KeyStatus = 'active' | 'disabled';

/** What a key looks like to operators and clients: everything but its hash. */
export interface KeyView {
  keyId: string;
  name: string;
  status: KeyStatus;
  /** Allowed `provider/model` slugs or `provider/*`; empty means every model. */
  models: string[];
  createdAt: string;
  updatedAt: string;
  rotatedAt?: string;
  /** ISO time after which the key is refused. */
  expiresAt?: string;
  requestCount: number;
  lastUsedAt?: string;
}

interface KeyItem extends KeyView {
  keyHash: string;
}

/** Options for a new key. */
export interface CreateKeyInput {
  name: string;
  models?: string[];
  expiresAt?: string;
}

function view(item: KeyItem): KeyView {
  const { keyHash: _hash, ...rest } = item;
  return rest;
}

/**
 * Keys table access. `now` is injectable so expiry is testable without sleeping.
 */
export class KeyStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly prefix: string;
  private readonly now: () => Date;

  constructor(db: DynamoDBDocumentClient, table: string, prefix: string, now: () => Date = () => new Date()) {
    this.db = db;
    this.table = table;
    this.prefix = prefix;
    this.now = now;
  }

  /** Creates a key; the plaintext in the result is the only copy that will ever exist. */
  async create(input: CreateKeyInput): Promise<{ key: KeyView; plaintext: string }> {
    const issued = issueKey(this.prefix);
    const at = this.now().toISOString();
    const item: KeyItem = {
      keyId: issued.keyId,
      name: input.name,
      keyHash: issued.hash,
      status: 'active',
      models: input.models ?? [],
      createdAt: at,
      updatedAt: at,
      requestCount: 0,
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
    };
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(keyId)',
      }),
    );
    return { key: view(item), plaintext: issued.plaintext };
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

  /** Every key, oldest first. */
  async list(): Promise<KeyView[]> {
    const keys: KeyView[] = [];
    for await (const page of paginateScan(
      { client: this.db },
      { TableName: this.table, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) keys.push(view(item as KeyItem));
    }
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Disables or re-enables a key. */
  async setStatus(keyId: string, status: KeyStatus): Promise<KeyView> {
    return this.update(
      keyId,
      'SET #status = :status, updatedAt = :at',
      { '#status': 'status' },
      { ':status': status },
    );
  }

  /** Replaces the secret: the old plaintext stops working at once; id, name, scope and history stay. */
  async rotate(keyId: string): Promise<{ key: KeyView; plaintext: string }> {
    const issued = issueKey(this.prefix, keyId);
    const key = await this.update(keyId, 'SET keyHash = :hash, rotatedAt = :at, updatedAt = :at', undefined, {
      ':hash': issued.hash,
    });
    return { key, plaintext: issued.plaintext };
  }

  /** Deletes the key item; request-log entries are kept elsewhere and survive. */
  async delete(keyId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { keyId },
          ConditionExpression: 'attribute_exists(keyId)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('key', keyId);
      throw err;
    }
  }

  /**
   * The authorizer's check: one strongly consistent read by key id, then a constant-time comparison of
   * the hash, status and expiry.
   * @throws {InvalidApiKeyError} for any refusal, with no hint of which check failed.
   */
  async authenticate(keyId: string, hash: string): Promise<KeyView> {
    const item = await this.item(keyId);
    if (item === undefined || !hashesEqual(item.keyHash, hash) || !this.usable(item))
      throw new InvalidApiKeyError();
    return view(item);
  }

  /**
   * The proxy's admission write: counts the request and, in the same conditional write, re-checks hash,
   * status and expiry, so a disabled, rotated or expired key is refused on the very next request even
   * while the authorizer's cached Allow is still alive.
   * @throws {InvalidApiKeyError} when the condition fails.
   */
  async admit(keyId: string, hash: string): Promise<KeyView> {
    const at = this.now().toISOString();
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { keyId },
          UpdateExpression: 'ADD requestCount :one SET lastUsedAt = :at',
          ConditionExpression:
            'keyHash = :hash AND #status = :active AND (attribute_not_exists(expiresAt) OR expiresAt > :at)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':one': 1, ':at': at, ':hash': hash, ':active': 'active' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return view(result.Attributes as KeyItem);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new InvalidApiKeyError();
      throw err;
    }
  }

  private usable(item: KeyItem): boolean {
    return (
      item.status === 'active' && (item.expiresAt === undefined || item.expiresAt > this.now().toISOString())
    );
  }

  private async item(keyId: string): Promise<KeyItem | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { keyId }, ConsistentRead: true }),
    );
    return result.Item as KeyItem | undefined;
  }

  private async update(
    keyId: string,
    expression: string,
    names: Record<string, string> | undefined,
    values: Record<string, unknown>,
  ): Promise<KeyView> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { keyId },
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(keyId)',
          ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: { ...values, ':at': this.now().toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return view(result.Attributes as KeyItem);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('key', keyId);
      throw err;
    }
  }
}
