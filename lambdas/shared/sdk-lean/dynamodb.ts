/**
 * DynamoDB as a {@link DocumentDb} without the SDK's DynamoDB client: the operations' JSON over
 * `aws-json.ts` (SigV4, partition endpoints, the standard retry mode), values converted by the SDK's own
 * `@aws-sdk/util-dynamodb` exactly where `@aws-sdk/lib-dynamodb` converts them. What the Lambdas and the
 * local gateway use; `test/lambdas/shared/sdk-lean-dynamodb.test.ts` runs every operation through it and
 * through the SDK's document client against DynamoDB Local and compares the answers and the errors.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StorageUnavailableError } from '../errors.ts';
import type { DocumentDb } from '../store/db.ts';
import {
  AWS_JSON_SERVICES,
  type AwsJsonAnswer,
  type AwsJsonOptions,
  AwsServiceError,
  awsJsonClient,
} from './aws-json.ts';

type Plain = Record<string, unknown>;
type Wire = Record<string, AttributeValue>;

/** Watches every call (the write counter of the tests and the bench): `input` may still be amended. */
export interface DbObserver {
  before?(operation: string, input: Plain): void;
  after?(operation: string, answer: AwsJsonAnswer): void;
  failed?(operation: string, error: unknown): void;
}

/** Where and as whom DynamoDB is called. */
export interface LeanDynamoOptions extends AwsJsonOptions {
  /** Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  region?: string;
  observer?: DbObserver;
}

/** A blob's form in the other encoding: base64 in JSON, bytes in the SDK's values. */
type Recode = (blob: unknown) => unknown;

/** An attribute value with its blobs (`B`, `BS`, within `M` and `L`) recoded, as the SDK's serializer does. */
function recoded(value: AttributeValue, recode: Recode): AttributeValue {
  const { B, BS, M, L } = value as { B?: unknown; BS?: unknown[]; M?: Wire; L?: AttributeValue[] };
  if (B !== undefined) return { B: recode(B) } as AttributeValue;
  if (BS !== undefined) return { BS: BS.map(recode) } as AttributeValue;
  if (M !== undefined) return { M: recodedMap(M, recode) };
  if (L !== undefined) return { L: L.map((item) => recoded(item, recode)) };
  return value;
}
const recodedMap = (map: Wire, recode: Recode): Wire =>
  Object.fromEntries(Object.entries(map).map(([name, value]) => [name, recoded(value, recode)]));
const toBase64: Recode = (blob) => Buffer.from(blob as Uint8Array).toString('base64');
const fromBase64: Recode = (text) => new Uint8Array(Buffer.from(String(text), 'base64'));

/** Whether a map holds a blob anywhere: most items hold none, and are then passed on as they are. */
function holdsBlob(map: Wire): boolean {
  for (const value of Object.values(map)) {
    const { B, BS, M, L } = value as { B?: unknown; BS?: unknown; M?: Wire; L?: AttributeValue[] };
    if (B !== undefined || BS !== undefined) return true;
    if (M !== undefined && holdsBlob(M)) return true;
    if (L !== undefined && holdsBlob(L as unknown as Wire)) return true;
  }
  return false;
}
const withBlobs = (map: Wire, recode: Recode): Wire => (holdsBlob(map) ? recodedMap(map, recode) : map);

const toWire = (value: unknown): Wire =>
  withBlobs(marshall(value as Plain, { removeUndefinedValues: true }), toBase64);
const fromWire = (value: unknown): Plain => unmarshall(withBlobs(value as Wire, fromBase64));
const each =
  (convert: (value: unknown) => unknown) =>
  (list: unknown): unknown =>
    (list as unknown[]).map(convert);
const perTable =
  (convert: (value: unknown) => unknown) =>
  (tables: unknown): unknown =>
    Object.fromEntries(Object.entries(tables as Plain).map(([table, value]) => [table, convert(value)]));

/** The fields of a shape that hold values, and how each converts. */
type Shape = Record<string, (value: unknown) => unknown>;

/** Applies a shape's conversions to the fields present, leaving every other field as it is. */
const converted =
  (shape: Shape) =>
  (value: unknown): Plain => {
    const out: Plain = { ...(value as Plain) };
    for (const [field, convert] of Object.entries(shape)) {
      if (out[field] !== undefined) out[field] = convert(out[field]);
    }
    return out;
  };

const VALUES = { ExpressionAttributeValues: toWire };
const KEYED = converted({ Key: toWire, ...VALUES });
const ITEM = converted({ Item: toWire, ...VALUES });
const ATTRIBUTES = converted({ Attributes: fromWire });
/** Query and Scan: a start key and values in, items and the next start key out. */
const PAGED = {
  input: converted({ ExclusiveStartKey: toWire, ...VALUES }),
  output: converted({ Items: each(fromWire), LastEvaluatedKey: fromWire }),
};
const keysAndAttributes = (convert: (value: unknown) => unknown) => converted({ Keys: each(convert) });

const transactItems = converted({
  TransactItems: each(
    converted({
      ConditionCheck: KEYED,
      Put: ITEM,
      Delete: KEYED,
      Update: KEYED,
    }),
  ),
});

/** Each operation: its input's conversion to DynamoDB's encoding, and its output's back (lib-dynamodb's fields). */
const OPERATIONS = {
  get: { name: 'GetItem', input: converted({ Key: toWire }), output: converted({ Item: fromWire }) },
  put: { name: 'PutItem', input: ITEM, output: ATTRIBUTES },
  update: { name: 'UpdateItem', input: KEYED, output: ATTRIBUTES },
  delete: { name: 'DeleteItem', input: KEYED, output: ATTRIBUTES },
  query: { name: 'Query', ...PAGED },
  scan: { name: 'Scan', ...PAGED },
  transactWrite: {
    name: 'TransactWriteItems',
    // The token the SDK adds: a retry of a transaction whose answer was lost is then the same transaction
    // (DynamoDB answers it as done for 10 minutes), not a second one refused by its own conditions.
    input: (value: unknown): Plain => ({ ClientRequestToken: randomUUID(), ...transactItems(value) }),
    output: converted({}),
  },
  batchGet: {
    name: 'BatchGetItem',
    input: converted({ RequestItems: perTable(keysAndAttributes(toWire)) }),
    output: converted({
      Responses: perTable(each(fromWire)),
      UnprocessedKeys: perTable(keysAndAttributes(fromWire)),
    }),
  },
} as const satisfies Record<keyof DocumentDb, { name: string; input: Shape[string]; output: Shape[string] }>;

/**
 * A {@link DocumentDb} over DynamoDB's JSON protocol. After the standard mode's retries, a failure that
 * is transient (throttling, a 5xx, no answer) is a {@link StorageUnavailableError}; DynamoDB's refusals
 * (`ConditionalCheckFailedException`, `TransactionCanceledException`…) come as {@link AwsServiceError}s
 * named as the SDK names them, with the answer's fields.
 */
export function leanDocumentDb(options: LeanDynamoOptions = {}): DocumentDb {
  const call = awsJsonClient(AWS_JSON_SERVICES.dynamodb, options);
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const operation =
    (op: (typeof OPERATIONS)[keyof typeof OPERATIONS]) =>
    async (input: object): Promise<never> => {
      if (region === undefined) throw new Error('DynamoDB needs a region: set AWS_REGION');
      const wire = op.input(input);
      options.observer?.before?.(op.name, wire);
      try {
        const answer = await call({ region, operation: op.name, input: wire });
        options.observer?.after?.(op.name, answer);
        return { ...op.output(answer), $metadata: {} } as never;
      } catch (err) {
        options.observer?.failed?.(op.name, err);
        if (err instanceof AwsServiceError && err.unavailable)
          throw new StorageUnavailableError({ cause: err });
        throw err;
      }
    };
  return {
    get: operation(OPERATIONS.get),
    put: operation(OPERATIONS.put),
    update: operation(OPERATIONS.update),
    delete: operation(OPERATIONS.delete),
    query: operation(OPERATIONS.query),
    scan: operation(OPERATIONS.scan),
    transactWrite: operation(OPERATIONS.transactWrite),
    batchGet: operation(OPERATIONS.batchGet),
  };
}
