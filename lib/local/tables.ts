/** Creates Tollgate's tables in DynamoDB Local from the shared schema, when they do not exist yet. */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableName, type TableSpec } from '#shared/store/schema.ts';

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

async function ensureTable(client: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: 'S' }];
  if (spec.sortKey !== undefined) {
    keys.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: spec.sortKey, AttributeType: 'S' });
  }
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keys,
      AttributeDefinitions: attributes,
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
