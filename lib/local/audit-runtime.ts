/**
 * The local audit pipeline: the real audit handler, fed by the stream poller from DynamoDB Local's
 * streams, with the on-failure destination a JSON-lines file in the state folder.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { LocalState } from './state.ts';
import { StreamPoller } from './stream-poller.ts';

type AuditHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

/** A poller over the keys, teams and providers streams; call `start()` or `drain()`. */
export async function auditPoller(state: LocalState): Promise<StreamPoller> {
  // Imported only now: the handler reads the env contract when it loads.
  const { handler } = (await import('../../lambdas/audit/handler.ts')) as unknown as {
    handler: AuditHandler;
  };
  return new StreamPoller({
    tables: [state.tables.keys, state.tables.teams, state.tables.providers],
    handler,
    checkpointPath: join(state.home, 'stream-checkpoints.json'),
    onFailure: async (info) => {
      await appendFile(
        join(state.home, 'audit-failures.jsonl'),
        `${JSON.stringify({ reason: 'retries exhausted', batch: info })}\n`,
        { mode: 0o600 },
      );
    },
  });
}
