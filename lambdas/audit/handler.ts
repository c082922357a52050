/**
 * Audit Lambda: DynamoDB stream batches in, partial batch failures out (Powertools BatchProcessor); and the
 * EventBridge schedule, on which it seals the chain with a signed digest even when nothing changed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type AuditorDeps, auditRecord, sealOnSchedule } from '#shared/audit/auditor.ts';
import { readEnv } from '#shared/env.ts';
import { isScheduledEvent, type ScheduledEvent } from '#shared/events.ts';
import { logger } from '#shared/log.ts';
import { auditorFromEnv } from './deps.ts';
import { stopAtFirstFailure } from './in-order.ts';

/** A scheduled event; the local runtime adds `detail.reason: 'stop'` when it shuts down. */
type SealEvent = ScheduledEvent<{ reason?: 'stop' }>;

/** The handler over the given dependencies (the local runtime passes its own clock). */
export function auditHandler(deps: AuditorDeps) {
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  return middy<DynamoDBStreamEvent | SealEvent, DynamoDBBatchResponse | undefined>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context) => {
      if (isScheduledEvent<SealEvent['detail']>(event)) {
        await sealOnSchedule(deps, event.detail?.reason === 'stop' ? 'stop' : 'schedule');
        return undefined;
      }
      // In order, one record at a time, and no record after a failed one: the chain keeps stream order.
      const inOrder = stopAtFirstFailure((record: DynamoDBRecord) => auditRecord(record, deps));
      return processPartialResponse(event, inOrder, processor, { context, processInParallel: false });
    });
}

export const handler = auditHandler(auditorFromEnv(readEnv()));
