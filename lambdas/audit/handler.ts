/** Audit Lambda: DynamoDB stream batches in, partial batch failures out (Powertools BatchProcessor). */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { auditRecord } from '#shared/audit/auditor.ts';
import { readEnv } from '#shared/env.ts';
import { logger } from '#shared/log.ts';
import { auditorFromEnv } from './deps.ts';

const deps = auditorFromEnv(readEnv());
const processor = new BatchProcessor(EventType.DynamoDBStreams);

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler((event, context) =>
    // In order, one record at a time: the chain is appended in stream order within a shard.
    processPartialResponse(event, (record: DynamoDBRecord) => auditRecord(record, deps), processor, {
      context,
      processInParallel: false,
    }),
  );
