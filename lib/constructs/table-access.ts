/**
 * Which DynamoDB actions each function may perform on each table, as data ({@link TABLE_ACCESS}), and
 * {@link bindTables}, which grants them together with the table's env-contract variable and the use of its
 * key through DynamoDB only, so the grants, the variable and the code that reads it cannot drift apart.
 */
import { Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ENV } from '#shared/env.ts';
import { TABLES, type TableName, type TableSpec } from '#shared/store/schema.ts';

/** What the management API does to configuration: every change goes through conditional writes. */
const CONFIG_WRITE = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:Scan',
] as const;

/**
 * DynamoDB actions each function may perform on each table; nothing else is granted (the audit function's
 * stream reads come with its event source mappings). `test/lib/constructs/table-access.test.ts` holds the functions'
 * calls to these.
 */
export const TABLE_ACCESS = {
  authorizer: { keys: ['dynamodb:GetItem'], teams: ['dynamodb:GetItem'] },
  proxy: {
    // Admission reads the key and its team together (one BatchGetItem); the proxy never writes either.
    keys: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
    teams: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
    providers: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
    // A sharded month's spend is read from all its shards in one BatchGetItem.
    usage: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
    // The log is written once per request and never changed.
    requestLog: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  },
  admin: {
    keys: CONFIG_WRITE,
    teams: CONFIG_WRITE,
    providers: CONFIG_WRITE,
    // `teams show` and `settings` read a month's spend (one BatchGetItem over its shards); reconciling
    // reservations scans the month counters and bills each expired receipt with a conditional update.
    usage: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ],
    // Usage operations read a key's or a project's requests from the request log's indexes.
    requestLog: ['dynamodb:Query'],
    audit: ['dynamodb:GetItem', 'dynamodb:Query'],
  },
  audit: {
    // Appending a record and sealing a digest are transactions of Puts and an Update of the chain's head;
    // IAM authorizes each part by its own action (PutItem, UpdateItem), not by TransactWriteItems.
    audit: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  },
} as const satisfies Record<string, Partial<Record<TableName, readonly string[]>>>;

const TABLE_ENV = {
  keys: 'keysTable',
  teams: 'teamsTable',
  providers: 'providersTable',
  usage: 'usageTable',
  requestLog: 'requestLogTable',
  audit: 'auditTable',
} as const satisfies Record<TableName, keyof typeof ENV>;

/** The functions whose table access {@link TABLE_ACCESS} states. */
export type TableUser = keyof typeof TABLE_ACCESS;

/** Binds every table {@link TABLE_ACCESS} lists for function `user` to it, as {@link bindTable} does one. */
export function bindTables(props: {
  user: TableUser;
  fn: NodejsFunction;
  role: IRole;
  tables: Readonly<Record<TableName, Table>>;
  key: IKey;
}): void {
  const access: Partial<Record<TableName, readonly string[]>> = TABLE_ACCESS[props.user];
  for (const [name, actions] of Object.entries(access) as Array<[TableName, readonly string[]]>) {
    bindTable({ fn: props.fn, role: props.role, name, table: props.tables[name], actions, key: props.key });
  }
}

/**
 * Grants a function exactly `actions` on `table`, sets the table's env-contract variable, and lets it use
 * the table key only through DynamoDB (`kms:ViaService`), so table access never doubles as the right to
 * decrypt credentials.
 */
function bindTable(props: {
  fn: NodejsFunction;
  role: IRole;
  name: TableName;
  table: Table;
  actions: readonly string[];
  key: IKey;
}): void {
  const { fn, role, name, table, actions, key } = props;
  fn.addEnvironment(ENV[TABLE_ENV[name]], table.tableName);
  // A query may read the table's indexes; nothing else reaches them.
  const spec: TableSpec = TABLES[name];
  const indexes = actions.includes('dynamodb:Query')
    ? (spec.indexes ?? []).map((index) => `${table.tableArn}/index/${index.name}`)
    : [];
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...actions], resources: [table.tableArn, ...indexes] }),
  );
  const reads = new Set([
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:ConditionCheckItem',
  ]);
  const writes = actions.some((a) => !reads.has(a));
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: writes
        ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
        : ['kms:Decrypt', 'kms:DescribeKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}
