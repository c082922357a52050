/**
 * Processes DynamoDB stream records of the configuration tables into the audit chain, and seals the chain
 * with signed digests: after an append when `digestEvery` records are unsealed, and on the schedule
 * (every `digestIntervalMs`, also when idle). A record that can never become an entry (unattributed,
 * malformed) goes whole to the failure sink — the full stream record, not just its coordinates — and the
 * batch moves on; any other failure is thrown so the batch processor reports it and the event source
 * mapping retries it.
 */
import { appendFile } from 'node:fs/promises';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { logger } from '../log.ts';
import type { AuditLog } from './chain.ts';
import type { DigestReason } from './digests.ts';
import { type AuditedTable, entryFor, PoisonRecordError, tableOf } from './entries.ts';
import type { Signer } from './signer.ts';

/** Where records that can never be audited are kept, with their full content. */
export interface FailureSink {
  send(record: DynamoDBRecord, reason: string): Promise<void>;
}

/** The failure sink named by the env contract: `sqs:<queue url>` in AWS, `file:<path>` (JSON lines) locally. */
export function failureSinkFromSpec(spec: string, sqs: SQSClient = new SQSClient({})): FailureSink {
  if (spec.startsWith('sqs:')) {
    const queueUrl = spec.slice(4);
    return {
      async send(record, reason) {
        await sqs.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ reason, record }) }),
        );
      },
    };
  }
  if (spec.startsWith('file:')) {
    const path = spec.slice(5);
    return {
      async send(record, reason) {
        await appendFile(path, `${JSON.stringify({ reason, record, at: new Date().toISOString() })}\n`, {
          mode: 0o600,
        });
      },
    };
  }
  throw new Error("audit failure sink must be 'sqs:<queue url>' or 'file:<path>'");
}

/** What the auditor needs. */
export interface AuditorDeps {
  log: AuditLog;
  signer: Signer;
  sink: FailureSink;
  tables: Readonly<Record<AuditedTable, string>>;
  digestEvery: number;
  /** At least one digest this often (ms), whether or not anything changed. */
  digestIntervalMs: number;
  /** Milliseconds since the epoch: the time digests carry. */
  clock: () => number;
}

/** Seals the chain now (the schedule; `stop` when the local runtime shuts down). */
export async function sealOnSchedule(
  deps: AuditorDeps,
  reason: Exclude<DigestReason, 'count'>,
): Promise<void> {
  const digest = await deps.log.seal({
    signer: deps.signer,
    now: deps.clock(),
    intervalMs: deps.digestIntervalMs,
    reason,
  });
  logger.info('audit digest', { digest: digest?.seq, toSeq: digest?.toSeq, reason });
}

/** Handles one stream record. Throws only for failures worth retrying. */
export async function auditRecord(record: DynamoDBRecord, deps: AuditorDeps): Promise<void> {
  try {
    const table = tableOf(record.eventSourceARN, deps.tables);
    if (table === undefined)
      throw new PoisonRecordError(
        `stream record from an unaudited source ${record.eventSourceARN ?? '(none)'}`,
      );
    const entry = entryFor(record, table);
    if (entry === undefined) return;
    const appended = await deps.log.append(entry);
    // Replays too: a digest that was due when a crash interrupted the first delivery is signed now.
    await deps.log
      .sealIfDue({
        signer: deps.signer,
        now: deps.clock(),
        intervalMs: deps.digestIntervalMs,
        digestEvery: deps.digestEvery,
      })
      .catch((err: unknown) => {
        // The record is in the chain: failing it would only push it out to the failure destination. The
        // schedule retries sealing (and fails loudly); verification reports the gap if it never succeeds.
        logger.error('audit sealing failed', { eventId: entry.eventId, reason: (err as Error).message });
      });
    logger.info('audit record', {
      eventId: entry.eventId,
      action: entry.action,
      seq: appended?.seq,
      replay: appended === undefined,
    });
  } catch (err) {
    if (!(err instanceof PoisonRecordError)) throw err;
    logger.error('poison stream record sent to the failure destination', {
      eventId: record.eventID,
      reason: err.message,
    });
    // If even the sink fails, throwing leaves the record to the event source mapping's retries.
    await deps.sink.send(record, err.message);
  }
}
