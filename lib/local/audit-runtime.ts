/**
 * The local audit pipeline: the real audit handler, fed by the stream poller from DynamoDB Local's
 * streams, with the on-failure destination a JSON-lines file in the state folder; and the schedule that on
 * AWS is an EventBridge rule: every `auditDigestMinutes` by the runtime's clock (injectable, so tests move
 * time), the handler receives a scheduled event and seals the chain; when the runtime stops, a `stop` one.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, DynamoDBBatchResponse } from 'aws-lambda';
import { readEnv } from '#shared/env.ts';
import { localContext } from './lambda-runtime.ts';
import type { LocalState } from './state.ts';
import { StreamPoller } from './stream-poller.ts';

type AuditHandler = (event: unknown, context: Context) => Promise<DynamoDBBatchResponse | undefined>;

/** Options of the local audit runtime. */
export interface AuditRuntimeOptions {
  /** Milliseconds since the epoch; `Date.now` unless a test moves time itself. */
  clock?: () => number;
}

/** The event an EventBridge schedule rule delivers. */
function scheduledEvent(at: number, reason: 'schedule' | 'stop'): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: ['arn:aws:events:local:000000000000:rule/tollgate-audit-digest'],
    detail: reason === 'stop' ? { reason } : {},
  };
}

/** A poller over the keys, teams and providers streams; call `start()` or `drain()`. */
export async function auditPoller(
  state: LocalState,
  options: AuditRuntimeOptions = {},
): Promise<StreamPoller> {
  // Imported only now: the handler reads the env contract when it loads.
  const { auditHandler } = await import('../../lambdas/audit/handler.ts');
  const { auditorFromEnv } = await import('../../lambdas/audit/deps.ts');
  const clock = options.clock ?? Date.now;
  const deps = auditorFromEnv(readEnv(), clock);
  const handler = auditHandler(deps) as unknown as AuditHandler;
  return new StreamPoller({
    tables: [state.tables.keys, state.tables.teams, state.tables.providers],
    handler: (event, context) => handler(event, context),
    checkpointPath: join(state.auditHome, 'stream-checkpoints.json'),
    onFailure: async (info) => {
      await appendFile(
        join(state.auditHome, 'audit-failures.jsonl'),
        `${JSON.stringify({ reason: 'retries exhausted', batch: info })}\n`,
        { mode: 0o600 },
      );
    },
    schedule: {
      clock,
      everyMs: deps.digestIntervalMs,
      fire: async (reason) => {
        await handler(scheduledEvent(clock(), reason), localContext('tollgate-audit', `schedule-${clock()}`));
      },
    },
  });
}
