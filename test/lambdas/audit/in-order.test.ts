/** A stream batch stops at its first failed record, through the real Powertools batch processor. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { stopAtFirstFailure } from '../../../lambdas/audit/in-order.ts';

const record = (sequence: number): DynamoDBRecord => ({
  eventID: `event-${sequence}`,
  eventName: 'MODIFY',
  eventSource: 'aws:dynamodb',
  eventSourceARN: 'arn:aws:dynamodb:eu-west-1:111122223333:table/keys/stream/2026',
  dynamodb: { SequenceNumber: String(100 + sequence), Keys: { pk: { S: `k${sequence}` } } },
});

describe('stopAtFirstFailure', () => {
  it('applies nothing after a failed record and reports it and every later record failed', async () => {
    // Prepare
    const event: DynamoDBStreamEvent = { Records: [1, 2, 3, 4].map(record) };
    const applied: string[] = [];
    const handle = async (r: DynamoDBRecord) => {
      if (r.eventID === 'event-2') throw new Error('DynamoDB unavailable');
      applied.push(r.eventID ?? '');
    };

    // Act
    const response = await processPartialResponse(
      event,
      stopAtFirstFailure(handle),
      new BatchProcessor(EventType.DynamoDBStreams),
      { processInParallel: false },
    );

    // Assess: the mapping checkpoints at the lowest failed sequence number and retries 2, 3, 4 in order.
    expect(applied).toEqual(['event-1']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['102', '103', '104']);
  });

  it('applies every record of a batch without failure', async () => {
    // Prepare
    const applied: string[] = [];

    // Act
    const response = await processPartialResponse(
      { Records: [1, 2, 3].map(record) },
      stopAtFirstFailure(async (r: DynamoDBRecord) => {
        applied.push(r.eventID ?? '');
      }),
      new BatchProcessor(EventType.DynamoDBStreams),
      { processInParallel: false },
    );

    // Assess
    expect(applied).toEqual(['event-1', 'event-2', 'event-3']);
    expect(response.batchItemFailures).toEqual([]);
  });
});
