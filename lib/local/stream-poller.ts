/**
 * Feeds DynamoDB Local's streams to the audit handler the way a Lambda event source mapping does: per
 * shard, in order, in batches of the Lambda DynamoDB-stream event shape; with `ReportBatchItemFailures`
 * semantics (a batch is retried from its first failed record, records before it count as done); with
 * bounded retries, after which the failed record's coordinates go to the on-failure destination and the
 * shard moves on. Progress is checkpointed per shard, so a restart resumes rather than replays. With a
 * `schedule`, each pass first fires it when due by its clock (as an EventBridge rule would), the first pass
 * at once; `stop()` fires it one last time with `stop`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { localContext } from './lambda-runtime.ts';

type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

/** What the on-failure destination receives from the mapping itself: coordinates, as in AWS. */
export interface FailedBatchInfo {
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  attempts: number;
}

/** A timer driven by an injectable clock, fired at the start of a pass when due. */
export interface PollerSchedule {
  clock: () => number;
  everyMs: number;
  fire: (reason: 'schedule' | 'stop') => Promise<void>;
}

/** Options of the poller. */
export interface StreamPollerOptions {
  /** Physical names of the tables whose streams to read. */
  tables: readonly string[];
  handler: StreamHandler;
  onFailure: (info: FailedBatchInfo) => Promise<void>;
  /** Where per-shard progress is kept; in memory when absent. */
  checkpointPath?: string;
  batchSize?: number;
  /** Retries of a failing record before it is given up on (the mapping's `retryAttempts`). */
  retryAttempts?: number;
  intervalMs?: number;
  schedule?: PollerSchedule;
}

/**
 * The SDK's streams client decodes an empty map `{"M":{}}` to a value with no defined member, which
 * Lambda — handed the service's JSON as it is — never sees. Restores it, so the handler gets the wire shape.
 */
function restoreEmptyMaps(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const attribute = value as Record<string, unknown>;
  // The decoded union may carry members set to undefined: only defined ones count.
  const names = Object.keys(attribute).filter((name) => attribute[name] !== undefined);
  if (names.length === 0) return { M: {} };
  if (attribute.M !== undefined) return { M: restoreImage(attribute.M as Record<string, unknown>) };
  if (Array.isArray(attribute.L)) return { L: attribute.L.map(restoreEmptyMaps) };
  return attribute;
}

function restoreImage(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (image === undefined) return undefined;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, restoreEmptyMaps(value)]));
}

/** The Lambda event-record shape: epoch-seconds creation time, the stream ARN attached, wire-shaped images. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  const images = record.dynamodb as
    | { NewImage?: Record<string, unknown>; OldImage?: Record<string, unknown> }
    | undefined;
  return {
    ...record,
    eventSourceARN: streamArn,
    dynamodb: {
      ...record.dynamodb,
      ...(images?.NewImage === undefined ? {} : { NewImage: restoreImage(images.NewImage) }),
      ...(images?.OldImage === undefined ? {} : { OldImage: restoreImage(images.OldImage) }),
      ApproximateCreationDateTime:
        created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
    },
  } as DynamoDBRecord;
}

/** Polls streams until stopped. */
export class StreamPoller {
  private readonly options: Required<Omit<StreamPollerOptions, 'checkpointPath' | 'schedule'>> & {
    checkpointPath?: string;
    schedule?: PollerSchedule;
  };
  private nextFire: number | undefined;
  private readonly streams = new DynamoDBStreamsClient({});
  private readonly dynamo = new DynamoDBClient({});
  private readonly checkpoints: Record<string, string>;
  private readonly attempts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(options: StreamPollerOptions) {
    this.options = { batchSize: 100, retryAttempts: 2, intervalMs: 250, ...options };
    const path = options.checkpointPath;
    this.checkpoints =
      path !== undefined && existsSync(path)
        ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>)
        : {};
  }

  /** Starts polling in the background. */
  start(): void {
    const tick = (): void => {
      this.running = this.pollOnce().catch(() => 0);
      void this.running.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.nextFire !== undefined) await this.options.schedule?.fire('stop');
    this.streams.destroy();
    this.dynamo.destroy();
  }

  /** Polls until a whole pass finds nothing new (at most `maxPasses`): what tests wait on. */
  async drain(maxPasses = 50): Promise<void> {
    await this.running;
    for (let pass = 0; pass < maxPasses; pass++) {
      if ((await this.pollOnce()) === 0) return;
    }
  }

  /** One pass over every shard of every stream; returns how many records were handed to the handler. */
  async pollOnce(): Promise<number> {
    const schedule = this.options.schedule;
    if (schedule !== undefined && (this.nextFire === undefined || schedule.clock() >= this.nextFire)) {
      await schedule.fire('schedule');
      this.nextFire = schedule.clock() + schedule.everyMs;
    }
    let delivered = 0;
    for (const table of this.options.tables) {
      const described = await this.dynamo.send(new DescribeTableCommand({ TableName: table }));
      const streamArn = described.Table?.LatestStreamArn;
      if (streamArn === undefined) continue;
      const stream = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const shard of stream.StreamDescription?.Shards ?? []) {
        if (shard.ShardId !== undefined) delivered += await this.pollShard(streamArn, shard.ShardId);
      }
    }
    return delivered;
  }

  private async pollShard(streamArn: string, shardId: string): Promise<number> {
    const after = this.checkpoints[shardId];
    const iterator = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
      }),
    );
    if (iterator.ShardIterator === undefined) return 0;
    const out = await this.streams.send(
      new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: this.options.batchSize }),
    );
    const records = (out.Records ?? []).map((r) => toLambdaRecord(r, streamArn));
    if (records.length === 0) return 0;
    let failedAt: number | undefined;
    try {
      const response = await this.options.handler(
        { Records: records },
        localContext('tollgate-audit', `${shardId}-${Date.now()}`),
      );
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const index = records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
      failedAt = index === -1 ? undefined : index;
    } catch {
      // A handler that throws fails the whole batch, as with the real mapping.
      failedAt = 0;
    }
    const done = failedAt === undefined ? records : records.slice(0, failedAt);
    const last = done.at(-1)?.dynamodb?.SequenceNumber;
    if (last !== undefined) this.checkpoint(shardId, last);
    if (failedAt !== undefined) {
      const failing = records[failedAt];
      const sequence = failing?.dynamodb?.SequenceNumber ?? '';
      const attempts = (this.attempts.get(sequence) ?? 0) + 1;
      this.attempts.set(sequence, attempts);
      if (attempts > this.options.retryAttempts) {
        await this.options.onFailure({
          streamArn,
          shardId,
          startSequenceNumber: sequence,
          endSequenceNumber: sequence,
          batchSize: 1,
          attempts,
        });
        this.attempts.delete(sequence);
        this.checkpoint(shardId, sequence);
      }
    }
    return records.length;
  }

  private checkpoint(shardId: string, sequenceNumber: string): void {
    this.checkpoints[shardId] = sequenceNumber;
    if (this.options.checkpointPath !== undefined) {
      writeFileSync(this.options.checkpointPath, JSON.stringify(this.checkpoints, null, 2), { mode: 0o600 });
    }
  }
}
