/** Creates Tollgate's tables in DynamoDB Local from the shared schema, when they do not exist yet. */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type IndexSpec, TABLES, type TableName, type TableSpec } from '#shared/store/schema.ts';

/** Physical table names for one local installation (or one test run). */
export function localTableNames(prefix: string): Record<TableName, string> {
  return {
    keys: `${prefix}-keys`,
    teams: `${prefix}-teams`,
    providers: `${prefix}-providers`,
    usage: `${prefix}-usage`,
    requestLog: `${prefix}-request-log`,
    audit: `${prefix}-audit`,
  };
}

/** A key schema and the string attributes it names. */
function keySchema(partitionKey: string, sortKey: string | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey === undefined ? [] : [{ AttributeName: sortKey, KeyType: 'RANGE' as const }]),
  ];
}

function attributesOf(spec: TableSpec): AttributeDefinition[] {
  const names = new Set([spec.partitionKey, ...(spec.sortKey === undefined ? [] : [spec.sortKey])]);
  for (const index of spec.indexes ?? []) names.add(index.partitionKey).add(index.sortKey);
  return [...names].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
}

function indexOf(index: IndexSpec): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' },
  };
}

/**
 * Adds the indexes a table made by an older version lacks, so `npm start` on an existing state folder
 * gets what the stack would (on AWS, CloudFormation adds them).
 */
async function addMissingIndexes(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  const out = await client.send(new DescribeTableCommand({ TableName: name }));
  const present = new Set((out.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const index of spec.indexes ?? []) {
    if (present.has(index.name)) continue;
    // One index per UpdateTable call, and the next only once it is built, as DynamoDB requires.
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: attributesOf(spec),
        GlobalSecondaryIndexUpdates: [{ Create: indexOf(index) }],
      }),
    );
    await untilActive(client, name, index.name);
  }
}

/** Waits (at most a minute) until a new index has been built; queries of it fail before. */
async function untilActive(client: DynamoDBClient, table: string, index: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    const status = out.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`index ${index} of ${table} is still ${status} after a minute`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ensureTable(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    await addMissingIndexes(client, name, spec);
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keySchema(spec.partitionKey, spec.sortKey),
      AttributeDefinitions: attributesOf(spec),
      ...(spec.indexes === undefined ? {} : { GlobalSecondaryIndexes: spec.indexes.map(indexOf) }),
      BillingMode: 'PAY_PER_REQUEST',
      ...(spec.stream
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
        : {}),
    }),
  );
  if (spec.ttlAttribute !== undefined) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      }),
    );
  }
}

/** Creates every missing table. */
export async function ensureTables(client: DynamoDBClient, names: Record<TableName, string>): Promise<void> {
  for (const [table, spec] of Object.entries(TABLES) as Array<[TableName, TableSpec]>) {
    await ensureTable(client, names[table], spec);
  }
}
