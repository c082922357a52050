/**
 * The lean DynamoDB client beside the SDK's document client, against DynamoDB Local: every operation the
 * stores make gives the same answer through both (values of every kind, pages, projections, batches,
 * transactions), and DynamoDB's refusals come with the same names and fields (its failures:
 * sdk-lean-dynamodb-faults.test.ts).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StorageUnavailableError } from '#shared/errors.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import type { DocumentDb } from '#shared/store/db.ts';
import { queryPages } from '#shared/store/db.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { startCuttableProxy } from '../../helpers/cuttable-proxy.ts';
import { failure } from '../../helpers/failure.ts';

const TABLE = `lean-conformance-${process.pid}`;
const endpoint = (): string => inject('dynamoEndpoint');
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
let sdk: ReturnType<typeof documentClient>;
let lean: DocumentDb;

beforeAll(async () => {
  const raw = new DynamoDBClient({ endpoint: endpoint(), region: 'us-east-1', credentials: CREDENTIALS });
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  raw.destroy();
  sdk = documentClient({ endpoint: endpoint(), region: 'us-east-1', credentials: CREDENTIALS });
  lean = leanDocumentDb({ endpoint: endpoint(), region: 'us-east-1', credentials: async () => CREDENTIALS });
});
afterAll(() => sdk?.destroy());

/** An answer without what differs between two calls by nature: the SDK's metadata. */
const comparable = ({ $metadata: _, ...rest }: { $metadata?: unknown }): Record<string, unknown> => rest;

/** Every kind of value the stores keep: numbers, strings, booleans, null, sets, lists, nested maps, blobs. */
const ITEM = {
  text: 'héllo',
  count: 42,
  fraction: 0.125,
  negative: -7,
  flag: true,
  nothing: null,
  tags: new Set(['a', 'b']),
  amounts: new Set([1, 2, 3]),
  list: [1, 'two', { three: 3 }],
  nested: { deeper: { deepest: 'x', n: 1 } },
  blob: new Uint8Array([0, 1, 254, 255]),
  blobs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
  deepBlobs: { inner: new Uint8Array([9]), list: [new Uint8Array([7, 8])] },
  empty: '',
};

/** Runs `work` once through each client, on items of its own, and returns both answers. */
async function both<T>(work: (db: DocumentDb, pk: string) => Promise<T>): Promise<{ bySdk: T; byLean: T }> {
  const run = `${Date.now()}-${Math.random()}`;
  return { bySdk: await work(sdk, `sdk-${run}`), byLean: await work(lean, `lean-${run}`) };
}

describe('the lean client beside the SDK document client', () => {
  it('writes and reads every kind of value the same, dropping undefined attributes as the stores ask', async () => {
    const { bySdk, byLean } = await both(async (db, pk) => {
      await db.put({ TableName: TABLE, Item: { pk, sk: 'item', ...ITEM, gone: undefined } });
      const got = await db.get({ TableName: TABLE, Key: { pk, sk: 'item' }, ConsistentRead: true });
      const { pk: _, ...item } = got.Item ?? {};
      return item;
    });
    expect(byLean).toEqual(bySdk);
    expect(byLean).toEqual({ sk: 'item', ...ITEM });
    expect(byLean).not.toHaveProperty('gone');
  });

  it('updates with conditions and returns the same attributes; deletes return the old item', async () => {
    const { bySdk, byLean } = await both(async (db, pk) => {
      const first = await db.update({
        TableName: TABLE,
        Key: { pk, sk: 'counter' },
        UpdateExpression: 'ADD n :one, tags :tag SET #m = if_not_exists(#m, :map)',
        ConditionExpression: 'attribute_not_exists(n) OR n < :cap',
        ExpressionAttributeNames: { '#m': 'map' },
        ExpressionAttributeValues: { ':one': 1, ':tag': new Set(['t']), ':map': { a: [1] }, ':cap': 10 },
        ReturnValues: 'ALL_NEW',
      });
      const second = await db.update({
        TableName: TABLE,
        Key: { pk, sk: 'counter' },
        UpdateExpression: 'ADD n :two',
        ExpressionAttributeValues: { ':two': 2 },
        ReturnValues: 'UPDATED_NEW',
      });
      const removed = await db.delete({
        TableName: TABLE,
        Key: { pk, sk: 'counter' },
        ReturnValues: 'ALL_OLD',
      });
      const strip = (item: Record<string, unknown> | undefined) => {
        const { pk: _, ...rest } = item ?? {};
        return rest;
      };
      return [strip(first.Attributes), second.Attributes, strip(removed.Attributes)];
    });
    expect(byLean).toEqual(bySdk);
    expect(byLean[1]).toEqual({ n: 3 });
  });

  it('pages queries and scans by the same keys, with projections and filters', async () => {
    const { bySdk, byLean } = await both(async (db, pk) => {
      for (let i = 0; i < 5; i++)
        await db.put({ TableName: TABLE, Item: { pk, sk: `row#${i}`, i, odd: i % 2 === 1 } });
      const pages: unknown[] = [];
      for await (const page of queryPages(db, {
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :row)',
        FilterExpression: 'odd = :no',
        ProjectionExpression: 'sk, i',
        ExpressionAttributeValues: { ':pk': pk, ':row': 'row#', ':no': false },
        Limit: 2,
        ConsistentRead: true,
      })) {
        const { LastEvaluatedKey, ...rest } = comparable(page);
        pages.push({ ...rest, next: (LastEvaluatedKey as { sk?: string } | undefined)?.sk });
      }
      const scanned = await db.scan({
        TableName: TABLE,
        FilterExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      });
      return { pages, scanned: (scanned.Items ?? []).map((item) => item.sk).sort() };
    });
    expect(byLean).toEqual(bySdk);
    expect(byLean.pages).toHaveLength(3);
    expect(byLean.scanned).toHaveLength(5);
  });

  it('reads batches across keys with projections, and writes transactions of every kind', async () => {
    const { bySdk, byLean } = await both(async (db, pk) => {
      await db.transactWrite({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { pk, sk: 'a', v: 1, extra: 'x' } } },
          {
            Put: {
              TableName: TABLE,
              Item: { pk, sk: 'b', v: 2 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: TABLE,
              Key: { pk, sk: 'c' },
              UpdateExpression: 'SET v = :v',
              ExpressionAttributeValues: { ':v': 3 },
            },
          },
        ],
      });
      await db.transactWrite({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: { pk, sk: 'a' },
              ConditionExpression: 'v = :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          { Delete: { TableName: TABLE, Key: { pk, sk: 'b' } } },
        ],
      });
      const out = await db.batchGet({
        RequestItems: {
          [TABLE]: {
            Keys: ['a', 'b', 'c', 'missing'].map((sk) => ({ pk, sk })),
            ProjectionExpression: 'sk, v',
            ConsistentRead: true,
          },
        },
      });
      return {
        items: (out.Responses?.[TABLE] ?? []).sort((x, y) => String(x.sk).localeCompare(String(y.sk))),
        unprocessed: out.UnprocessedKeys,
      };
    });
    expect(byLean).toEqual(bySdk);
    expect(byLean.items).toEqual([
      { sk: 'a', v: 1 },
      { sk: 'c', v: 3 },
    ]);
  });

  it("refuses with DynamoDB's names and fields: the held item of a failed condition, a transaction's reasons", async () => {
    const { bySdk, byLean } = await both(async (db, pk) => {
      await db.put({ TableName: TABLE, Item: { pk, sk: 'held', n: 5 } });
      const refused = await failure(
        db.update({
          TableName: TABLE,
          Key: { pk, sk: 'held' },
          UpdateExpression: 'ADD n :one',
          ConditionExpression: 'n < :cap',
          ExpressionAttributeValues: { ':one': 1, ':cap': 5 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const cancelled = await failure(
        db.transactWrite({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk, sk: 'fresh' } } },
            {
              Put: {
                TableName: TABLE,
                Item: { pk, sk: 'held' },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      const invalid = await failure(db.get({ TableName: TABLE, Key: { nope: 'x' } }));
      return {
        refused: { name: refused.name, held: (refused.Item as { n?: unknown } | undefined)?.n },
        cancelled: {
          name: cancelled.name,
          codes: (cancelled.CancellationReasons as Array<{ Code?: string }>).map((r) => r.Code),
        },
        invalid: { name: invalid.name, unavailable: invalid instanceof StorageUnavailableError },
      };
    });
    expect(byLean).toEqual(bySdk);
    expect(byLean).toEqual({
      // In DynamoDB's own encoding, through either client (the stores read it so).
      refused: { name: 'ConditionalCheckFailedException', held: { N: '5' } },
      cancelled: { name: 'TransactionCanceledException', codes: ['None', 'ConditionalCheckFailed'] },
      invalid: { name: 'ValidationException', unavailable: false },
    });
  });
});

describe('the lean client when an answer is lost', () => {
  it('retries a committed transaction as the same one (its token), not as a second refused by its conditions', async () => {
    // Prepare: the first answer never arrives, so the client sends the transaction again.
    const link = await startCuttableProxy(endpoint());
    const db = leanDocumentDb({
      endpoint: link.endpoint,
      region: 'us-east-1',
      credentials: async () => CREDENTIALS,
    });
    const pk = `replayed-${Date.now()}`;

    // Act
    link.loseNextAnswer();
    const written = db.transactWrite({
      TransactItems: [
        {
          Put: {
            TableName: TABLE,
            Item: { pk, sk: 'once' },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: TABLE,
            Key: { pk, sk: 'count' },
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ],
    });

    // Assess: it succeeds, and was applied once.
    await expect(written).resolves.toBeDefined();
    const counted = await lean.get({ TableName: TABLE, Key: { pk, sk: 'count' }, ConsistentRead: true });
    expect(counted.Item?.n).toBe(1);
    await link.close();
  });
});
