/**
 * A pass-through in front of DynamoDB Local that enforces one function's DynamoDB grants the way IAM does
 * on AWS, which DynamoDB Local never does: each call needs its action on every table it names (a
 * transaction, the action of each of its items; a batch, the batch action on each table), else it is
 * answered as DynamoDB answers an unauthorized caller, 400 `AccessDeniedException`, and recorded.
 */
import type { TableName } from '#shared/store/schema.ts';
import { dynamoOperation, forwardTo, listen, readAll } from './http.ts';

type Grants = Partial<Record<TableName, readonly string[]>>;

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/** The action and physical table name each part of one call needs. */
function required(
  operation: string,
  body: Record<string, unknown>,
): Array<{ action: string; table: string }> {
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (body.TransactItems ?? []) as Array<Record<string, { TableName?: string }>>;
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, part]) => ({
        action: TRANSACT_ACTIONS[kind] ?? `dynamodb:${kind}`,
        table: String(part.TableName),
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((body.RequestItems ?? {}) as object).map((table) => ({
      action: `dynamodb:${operation}`,
      table,
    }));
  }
  return [{ action: `dynamodb:${operation}`, table: String(body.TableName) }];
}

/**
 * Starts the gate for `grants` (by logical table, as `TABLE_ACCESS` states them) over `tables` (physical
 * name to logical name).
 */
export async function startIamGate(target: string, grants: Grants, tables: Record<string, TableName>) {
  const upstream = new URL(target);
  const denied: string[] = [];
  const { port, close } = await listen(async (req, res) => {
    const operation = dynamoOperation(req) ?? 'unknown';
    const body = await readAll(req);
    const refused = required(operation, JSON.parse(body || '{}') as Record<string, unknown>).filter(
      ({ action, table }) => {
        const logical = tables[table];
        return logical === undefined || !(grants[logical] ?? []).includes(action);
      },
    );
    if (refused.length > 0) {
      const first = refused[0];
      const message = `User: the function's role is not authorized to perform: ${first?.action} on resource: table/${first?.table}`;
      denied.push(message);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }));
      return;
    }
    forwardTo(upstream, { req, res, body });
  });
  return { endpoint: `http://127.0.0.1:${port}`, denied, close };
}
