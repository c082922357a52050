/**
 * The floor DynamoDB Local puts under every request, measured on a DynamoDB Local of its own: the CPU per
 * call in this process of the gateway's lean client and of the SDK's document client beside it (what each
 * of a request's DynamoDB calls costs the handler), one update's
 * latency p50 and p99 (the tail under every admission), the CPU of one upstream `fetch`, and how many operations per second DynamoDB Local
 * serves to 16 concurrent callers (what bounds the local gateway's throughput whatever the gateway does).
 * Bounded by operation counts.
 */
import { spawn } from 'node:child_process';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import type { DocumentDb } from '#shared/store/db.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { percentile } from './percentile.ts';

const TABLE = 'bench-floor';
const SEQUENTIAL = 2000;
const CONCURRENT_OPS = 3000;
const CLIENTS = 16;

/** What the floor measured. */
export interface DynamoFloor {
  /** CPU of this process per call, ms (sequential calls, so nothing overlaps), by client. */
  cpuMsPerCall: { lean: { get: number; update: number }; sdk: { get: number; update: number } };
  /**
   * CPU of this process per call of `fetch`, the handler's upstream client, answered by a server in another
   * process (sequential, the whole body read): what the handler's one upstream call costs it.
   */
  upstreamFetchCpuMs: number;
  /** One sequential UpdateItem's round trip, ms. */
  updateLatencyMs: { p50: number; p99: number };
  /** Operations per second at 16 concurrent callers. */
  opsPerSecond: { sameItemUpdate: number; distinctItemUpdate: number; consistentGet: number };
}

// A non-streamed chat completion's answer, from a process of its own so its CPU is not this one's.
const ANSWER_SERVER = `const body = JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0,
  message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
  s.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); s.end(body); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

async function fetchCpuPerCall(cpuPerCall: (op: () => Promise<unknown>) => Promise<number>): Promise<number> {
  const server = spawn(process.execPath, ['-e', ANSWER_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      server.once('exit', () => reject(new Error('the answer server exited')));
    });
    const call = async (): Promise<void> => {
      const answer = await fetch(`http://127.0.0.1:${port}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer floor', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'floor' }] }),
        signal: new AbortController().signal,
      });
      await answer.text();
    };
    for (let i = 0; i < 300; i++) await call();
    return await cpuPerCall(call);
  } finally {
    server.kill();
  }
}

/** Measures the floor on a DynamoDB Local started for it. */
export async function dynamoFloor(): Promise<DynamoFloor> {
  const dynamo = await startDynamoDbLocal({});
  const credentials = { accessKeyId: 'l', secretAccessKey: 'l' };
  const config = { endpoint: dynamo.endpoint, region: 'us-east-1' };
  const raw = new DynamoDBClient({ ...config, credentials });
  const sdk = documentClient({ ...config, credentials });
  const db = leanDocumentDb({ ...config, credentials: async () => credentials });
  try {
    await raw.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const updateBy = (client: DocumentDb) => (pk: string) =>
      client.update({
        TableName: TABLE,
        Key: { pk },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
      });
    const getBy = (client: DocumentDb) => () =>
      client.get({ TableName: TABLE, Key: { pk: 'one' }, ConsistentRead: true });
    const update = updateBy(db);
    const get = getBy(db);
    for (let i = 0; i < 300; i++) await update('one');
    const cpuPerCall = async (op: () => Promise<unknown>): Promise<number> => {
      const cpu = process.cpuUsage();
      for (let i = 0; i < SEQUENTIAL; i++) await op();
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / 1000 / SEQUENTIAL;
    };
    const rate = async (op: (client: number) => Promise<unknown>): Promise<number> => {
      let left = CONCURRENT_OPS;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          while (left-- > 0) await op(client);
        }),
      );
      return CONCURRENT_OPS / ((performance.now() - started) / 1000);
    };
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const started = performance.now();
      await update('one');
      latencies.push(performance.now() - started);
    }
    return {
      upstreamFetchCpuMs: await fetchCpuPerCall(cpuPerCall),
      cpuMsPerCall: {
        lean: { get: await cpuPerCall(get), update: await cpuPerCall(() => update('one')) },
        sdk: { get: await cpuPerCall(getBy(sdk)), update: await cpuPerCall(() => updateBy(sdk)('one')) },
      },
      updateLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      opsPerSecond: {
        sameItemUpdate: await rate(() => update('one')),
        distinctItemUpdate: await rate((client) => update(`client-${client}`)),
        consistentGet: await rate(get),
      },
    };
  } finally {
    sdk.destroy();
    raw.destroy();
    await dynamo.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await dynamoFloor(), null, 2));
}
