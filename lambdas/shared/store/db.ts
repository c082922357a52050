/**
 * What the stores call DynamoDB through, in the document client's shapes (plain values, not attribute
 * values): the lean client of `sdk-lean/dynamodb.ts` in the Lambdas and the local gateway, the SDK's
 * `DynamoDBDocument` (`sdk-db.ts`) in the CLI and where a test inspects tables. Either throws
 * {@link StorageUnavailableError} when DynamoDB cannot serve after its retries, and DynamoDB's own errors
 * (named by their type, with the answer's fields such as `CancellationReasons`) otherwise.
 */
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { StorageUnavailableError } from '../errors.ts';
import { ConflictError, NotFoundError } from '../operations/errors.ts';

/**
 * The DynamoDB operations the gateway makes, one method each. The legacy parameters (`Expected`,
 * `AttributeUpdates`, `KeyConditions`, `QueryFilter`, `ScanFilter`) are left out: the lean client does not
 * convert their values.
 */
export interface DocumentDb {
  get(input: GetCommandInput): Promise<GetCommandOutput>;
  put(input: Omit<PutCommandInput, 'Expected'>): Promise<PutCommandOutput>;
  update(input: Omit<UpdateCommandInput, 'Expected' | 'AttributeUpdates'>): Promise<UpdateCommandOutput>;
  delete(input: Omit<DeleteCommandInput, 'Expected'>): Promise<DeleteCommandOutput>;
  query(input: Omit<QueryCommandInput, 'KeyConditions' | 'QueryFilter'>): Promise<QueryCommandOutput>;
  scan(input: Omit<ScanCommandInput, 'ScanFilter'>): Promise<ScanCommandOutput>;
  transactWrite(input: TransactWriteCommandInput): Promise<TransactWriteCommandOutput>;
  batchGet(input: BatchGetCommandInput): Promise<BatchGetCommandOutput>;
}

type Paged = { ExclusiveStartKey?: Record<string, unknown> };

/** Every page of a paged read, following `LastEvaluatedKey`. */
async function* pages<I extends Paged, O extends { LastEvaluatedKey?: Record<string, unknown> }>(
  read: (input: I) => Promise<O>,
  input: I,
): AsyncGenerator<O> {
  let start = input.ExclusiveStartKey;
  do {
    const page = await read(start === undefined ? input : { ...input, ExclusiveStartKey: start });
    yield page;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

/** Every page of a query. */
export const queryPages = (db: DocumentDb, input: QueryCommandInput): AsyncGenerator<QueryCommandOutput> =>
  pages((page) => db.query(page), input);

/** Every page of a scan. */
export const scanPages = (db: DocumentDb, input: ScanCommandInput): AsyncGenerator<ScanCommandOutput> =>
  pages((page) => db.scan(page), input);

/** One item of a table, by its primary key. */
export interface ItemRef {
  table: string;
  key: Record<string, string>;
  /** Only these attributes (with the key's) are read; every ref of one table names the same. Default: all. */
  attributes?: readonly string[];
}

type TableRequest = {
  Keys: Array<Record<string, string>>;
  ConsistentRead: true;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
};

/** One table's part of a `BatchGetItem`, its projection (if any) by placeholders, so no name is reserved. */
function tableRequest(refs: ItemRef[]): TableRequest {
  const first = refs[0];
  const names =
    first?.attributes === undefined ? undefined : [...Object.keys(first.key), ...first.attributes];
  return {
    Keys: refs.map((ref) => ref.key),
    ConsistentRead: true,
    ...(names === undefined
      ? {}
      : {
          ProjectionExpression: names.map((_, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
        }),
  };
}

/**
 * Reads up to 100 items (of one or more tables) consistently in one `BatchGetItem`, returned in the order
 * asked (undefined for an item that does not exist). Keys DynamoDB leaves unprocessed (when throttled) are
 * asked again after a pause that doubles; still unprocessed after 5 calls, storage is unavailable (503):
 * a partial answer is never taken for the whole.
 */
export async function consistentBatchGet(
  db: DocumentDb,
  refs: ItemRef[],
): Promise<Array<Record<string, unknown> | undefined>> {
  const tables = [...new Set(refs.map((ref) => ref.table))];
  const keyNames = new Map(
    tables.map((table) => [table, Object.keys(refs.find((r) => r.table === table)?.key ?? {})]),
  );
  const id = (table: string, key: Record<string, unknown>) =>
    `${table}|${(keyNames.get(table) ?? []).map((name) => String(key[name])).join('|')}`;
  const found = new Map<string, Record<string, unknown>>();
  let requested: Record<string, TableRequest> = Object.fromEntries(
    tables.map((table) => [table, tableRequest(refs.filter((ref) => ref.table === table))]),
  );
  for (let attempt = 0; Object.keys(requested).length > 0; attempt++) {
    if (attempt === 5) throw new StorageUnavailableError();
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    const out = await db.batchGet({ RequestItems: requested });
    for (const [table, items] of Object.entries(out.Responses ?? {})) {
      for (const item of items) found.set(id(table, item), item);
    }
    requested = (out.UnprocessedKeys ?? {}) as typeof requested;
  }
  return refs.map((ref) => found.get(id(ref.table, ref.key)));
}

/** Errors that say DynamoDB cannot serve now (unreachable, throttling, its own 5xx), not that the request is wrong. */
const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** True when a DynamoDB call failed because storage is unavailable rather than because of the call. */
export function isStorageUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof StorageUnavailableError) return true;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  if (UNAVAILABLE_NAMES.has(e.name)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** True for the SDK's conditional-write refusal. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/**
 * The per-item codes (`ConditionalCheckFailed`, `TransactionConflict`, `None`…) of a cancelled
 * TransactWriteItems, in item order; undefined for any other error.
 */
export function cancellationCodes(err: unknown): Array<string | undefined> | undefined {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return undefined;
  return ((err as Error & { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? []).map(
    (r) => r.Code,
  );
}

/** An id as error messages show it: ids come from clients, and a 500 KB one must not become a 500 KB message. */
function shown(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}

/** A management operation named a record that does not exist. */
export class RecordNotFoundError extends NotFoundError {
  constructor(kind: string, id: string) {
    super(`${kind} '${shown(id)}' not found`);
    this.name = 'RecordNotFoundError';
  }
}

/** A management operation would create a record that already exists. */
export class RecordExistsError extends ConflictError {
  constructor(kind: string, id: string) {
    super(`${kind} '${shown(id)}' already exists`);
    this.name = 'RecordExistsError';
  }
}

/**
 * A read-modify-write lost a race: the record changed between this writer's read and its conditional
 * write, so nothing was written: a {@link ConflictError} (409 on `/admin`, exit 1 in the CLI); the caller
 * may read again and retry.
 */
export class ConcurrentChangeError extends ConflictError {
  constructor(kind: string, id: string, options?: ErrorOptions) {
    super(
      `${kind} '${shown(id)}' was changed by another writer at the same time; nothing was changed, try again`,
      options,
    );
    this.name = 'ConcurrentChangeError';
  }
}
