/**
 * Counts DynamoDB write capacity on the gateway's own (lean) DynamoDB client, through its observer: every
 * write asks for `ReturnConsumedCapacity: TOTAL` and the units DynamoDB (Local) reports are summed, with
 * the operations and the transactions it cancelled as conflicting. Used by the bench and by the test that
 * keeps the write count per request.
 */

import { type LeanDynamoOptions, leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import type { DocumentDb } from '#shared/store/db.ts';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

/** What the counter has seen so far. */
export interface WriteCount {
  units: number;
  writes: number;
  reads: number;
  conflicts: number;
}

/** A client as the Lambdas build it, with the live totals of what it wrote (reset by assigning 0s). */
export function countWriteUnits(options: LeanDynamoOptions = {}): { db: DocumentDb; count: WriteCount } {
  const count: WriteCount = { units: 0, writes: 0, reads: 0, conflicts: 0 };
  const db = leanDocumentDb({
    ...options,
    observer: {
      before: (operation, input) => {
        if (WRITES.has(operation)) input.ReturnConsumedCapacity = 'TOTAL';
      },
      after: (operation, answer) => {
        if (!WRITES.has(operation)) {
          count.reads += 1;
          return;
        }
        count.writes += 1;
        for (const c of [answer.ConsumedCapacity].flat())
          count.units += Number((c as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0);
      },
      failed: (_operation, err) => {
        const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'TransactionConflict')) count.conflicts += 1;
      },
    },
  });
  return { db, count };
}
