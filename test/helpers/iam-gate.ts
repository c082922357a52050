/**
 * A pass-through in front of DynamoDB Local that enforces one function's DynamoDB grants the way IAM does
 * on AWS, which DynamoDB Local never does: each call needs its action on every table it names (a
 * transaction, the action of each of its items; a batch, the batch action on each table), else it is
 * answered as DynamoDB answers an unauthorized caller, 400 `AccessDeniedException`, and recorded. Like
 * AWS, it first checks the request's SigV4 signature (scoped to `dynamodb`), which DynamoDB Local ignores.
 */
import type { TableName } from '#shared/store/schema.ts';
import { signatureRefusal } from '../fakes/sigv4.ts';
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
  const table = String(body.TableName);
  return [
    { action: `dynamodb:${operation}`, table },
    ...(body.IndexName === undefined ? [] : [{ action: 'dynamodb:Query', table }]),
  ];
}

/** The body as JSON, or undefined when it is none (refused like any call the gate cannot place). */
function parsed(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body || '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the gate for `grants` (by logical table, as `TABLE_ACCESS` states them) over `tables` (physical
 * name to logical name).
 */
export async function startIamGate(target: string, grants: Grants, tables: Record<string, TableName>) {
  const upstream = new URL(target);
  const denied: string[] = [];
  /** `Operation@table` (logical) of every call let through. */
  const allowed = new Set<string>();
  let lastCallAt = Date.now();
  const { port, close } = await listen(async (req, res) => {
    lastCallAt = Date.now();
    const operation = dynamoOperation(req) ?? 'unknown';
    const body = await readAll(req);
    const unsigned = await signatureRefusal(req, body, 'dynamodb');
    if (unsigned !== undefined) {
      denied.push(`${unsigned.type}: ${unsigned.message}`);
      res.writeHead(unsigned.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({ __type: `com.amazon.coral.service#${unsigned.type}`, message: unsigned.message }),
      );
      return;
    }
    const json = parsed(body);
    const refused = (
      json === undefined ? [{ action: operation, table: '' }] : required(operation, json)
    ).filter(({ action, table }) => {
      const logical = tables[table];
      return logical === undefined || !(grants[logical] ?? []).includes(action);
    });
    if (refused.length > 0) {
      const first = refused[0];
      const message = `User: the function's role is not authorized to perform: ${first?.action} on resource: table/${first?.table}`;
      denied.push(message);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }));
      return;
    }
    for (const { table } of required(operation, json ?? {})) allowed.add(`${operation}@${tables[table]}`);
    forwardTo(upstream, { req, res, body });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    denied,
    allowed,
    /** Resolves once no call has arrived for `ms` (work after an answer, such as settlement, is done). */
    async quiet(ms = 200): Promise<void> {
      for (const started = Date.now(); Date.now() - lastCallAt < ms; ) {
        if (Date.now() - started > 10_000) throw new Error('calls kept arriving for 10 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close,
  };
}
