/**
 * The local stand-in for the event source mapping, on DynamoDB Local's real streams: per-shard order,
 * retry from the first failed record, records before it not redelivered, and the on-failure
 * destination after the retries run out.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#shared/store/sdk-db.ts';
import { type FailedBatchInfo, StreamPoller } from '../../../lib/local/stream-poller.ts';
import { setupLocalEnv } from '../../helpers/local-env.ts';

let table: string;

beforeAll(async () => {
  table = (await setupLocalEnv()).state.tables.teams;
  for (const id of ['a', 'b', 'c', 'd']) {
    await documentClient().send(new PutCommand({ TableName: table, Item: { teamId: id } }));
  }
});

describe('stream poller', () => {
  it('retries from the first failed record, in order, then gives up to the on-failure destination', async () => {
    // Prepare: record "b" fails every time; everything else succeeds.
    const deliveries: string[][] = [];
    const failures: FailedBatchInfo[] = [];
    const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      const ids = event.Records.map((r) => r.dynamodb?.Keys?.teamId?.S ?? '?');
      deliveries.push(ids);
      const failing = event.Records.find((r) => r.dynamodb?.Keys?.teamId?.S === 'b');
      return {
        batchItemFailures:
          failing === undefined ? [] : [{ itemIdentifier: failing.dynamodb?.SequenceNumber ?? '' }],
      };
    };
    const poller = new StreamPoller({
      tables: [table],
      handler,
      retryAttempts: 2,
      onFailure: async (info) => void failures.push(info),
    });

    // Act
    await poller.drain();
    await poller.stop();

    // Assess: a, b, c, d first; then b, c, d twice more (retries); then c, d after b is given up on.
    expect(deliveries).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'c', 'd'],
      ['b', 'c', 'd'],
      ['c', 'd'],
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ attempts: 3, batchSize: 1 });
    expect(failures[0]?.streamArn).toContain(`table/${table}/stream/`);
  });
});
