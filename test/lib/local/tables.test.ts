/**
 * The local tables follow the shared schema, also for an installation made before an index existed: `npm
 * start` on an old state folder adds the request log's indexes, as CloudFormation would on AWS. The test
 * has a DynamoDB Local of its own: the suite's shared one, holding hundreds of tables, takes over 30 s to
 * build an index added to an existing table, while an installation's own (six tables) takes about a second.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../lib/local/dynamodb-local.ts';
import { ensureTables, localTableNames } from '../../../lib/local/tables.ts';

let dynamo: DynamoDbLocal;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({});
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('ensureTables', () => {
  it("adds the request log's indexes to a table made without them, and leaves it alone afterwards", async () => {
    // Prepare: the request log as an older version created it.
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const names = localTableNames(`upgrade${process.pid}`);
    await client.send(
      new CreateTableCommand({
        TableName: names.requestLog,
        KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    // Act
    await ensureTables(client, names);
    await ensureTables(client, names);
    const table = await client.send(new DescribeTableCommand({ TableName: names.requestLog }));
    const query = await client.send(
      new QueryCommand({
        TableName: names.requestLog,
        IndexName: 'byKey',
        KeyConditionExpression: 'keyId = :k',
        ExpressionAttributeValues: { ':k': { S: 'AbC123xyZ789' } },
      }),
    );

    // Assess
    const indexes = (table.Table?.GlobalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName,
      keys: i.KeySchema?.map((k) => `${k.KeyType}:${k.AttributeName}`),
      projection: i.Projection?.ProjectionType,
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { name: 'byKey', keys: ['HASH:keyId', 'RANGE:at'], projection: 'ALL' },
      { name: 'byProject', keys: ['HASH:project', 'RANGE:at'], projection: 'ALL' },
    ]);
    expect(query.Items).toEqual([]);
  });
});
