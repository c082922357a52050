/**
 * Counts DynamoDB write capacity with an SDK middleware: every write asks for `ReturnConsumedCapacity:
 * TOTAL` and the units DynamoDB (Local) reports are summed, with the operations and the transactions it
 * cancelled as conflicting. Used by the bench and by the test that keeps the write count per request.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const WRITES = /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)Command$/;

/** What the counter has seen so far. */
export interface WriteCount {
  units: number;
  writes: number;
  reads: number;
  conflicts: number;
}

/** Adds the counting middleware to `client` and returns the live totals (reset by assigning 0s). */
export function countWriteUnits(client: DynamoDBDocumentClient): WriteCount {
  const count: WriteCount = { units: 0, writes: 0, reads: 0, conflicts: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? '');
      const write = WRITES.test(name);
      if (write) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        if (write) {
          count.writes += 1;
          for (const c of [consumed].flat())
            count.units += Number((c as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0);
        } else count.reads += 1;
        return out;
      } catch (err) {
        const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'TransactionConflict')) count.conflicts += 1;
        throw err;
      }
    },
    { step: 'initialize', name: 'tollgateWriteUnits' },
  );
  return count;
}
