/**
 * The proxy bundle under the real Lambda runtime interface client (`aws-lambda-ric`, test/lambda-runtime/)
 * against the Runtime API fake, on its own DynamoDB Local: how many SSE events leave the function together
 * (events per chunk as the Runtime API receives them; 1.0 means none is held back) and the first event's
 * delay from the invocation, for streamed answers of `EVENTS` events `GAP_MS` apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readEnv } from '#shared/env.ts';
import { storesFromEnv } from '#shared/store/stores.ts';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { applyLocalEnv, openLocalState } from '../lib/local/state.ts';
import { ensureTables, localTableNames } from '../lib/local/tables.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { startProxyUnderRic, streamedChatEvent } from '../test/helpers/lambda-runtime-client.ts';
import { percentile } from './percentile.ts';

const ROUNDS = Number(process.env.BENCH_RIC_ROUNDS ?? 30);
const WARMUP = 3;
const EVENTS = 20;
const GAP_MS = 10;

/** What the runtime-client bench measured. */
export interface LambdaRuntimeResult {
  rounds: number;
  eventsPerChunk: { mean: number; max: number };
  firstEventMs: { p50: number; p99: number };
}

/** Runs the streamed rounds under the runtime interface client. */
export async function lambdaRuntimeBench(): Promise<LambdaRuntimeResult> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-bench-ric-'));
  const dynamo = await startDynamoDbLocal({});
  const fake = await startFakeOpenAI('sk-bench-ric');
  fake.state.words = Array.from({ length: EVENTS }, (_, i) => `w${i} `);
  fake.state.stream = { delayMs: GAP_MS };
  const state = { ...openLocalState(home), tables: localTableNames('benchric') };
  applyLocalEnv(state, dynamo.endpoint);
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  await ensureTables(client, state.tables);
  client.destroy();
  const admin = storesFromEnv(readEnv(), { id: 'local:bench' });
  await admin.providers.add(
    { name: 'bench', type: 'openai', baseUrl: fake.baseUrl, models: ['m'] },
    { secret: 'sk-bench-ric' },
  );
  await admin.providers.setPrice('bench', 'm', { inputPerMTok: 1, outputPerMTok: 2 });
  const key = (await admin.keys.create({ name: 'bench-ric' })).plaintext;
  const ric = await startProxyUnderRic({ ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const perChunk: number[] = [];
  const firstEvent: number[] = [];
  try {
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const event = await streamedChatEvent(key, 'bench/m');
      const started = process.hrtime.bigint();
      const record = ric.api.invoke(event);
      await record.done;
      if (round < WARMUP) continue;
      let first: bigint | undefined;
      for (const chunk of record.chunks) {
        const events = (chunk.bytes.toString('utf8').match(/"content":"w\d+ "/g) ?? []).length;
        if (events === 0) continue;
        first ??= chunk.at;
        perChunk.push(events);
      }
      if (first !== undefined) firstEvent.push(Number(first - started) / 1e6);
    }
  } finally {
    await ric.stop();
    await fake.close();
    await dynamo.stop();
    rmSync(home, { recursive: true, force: true });
  }
  return {
    rounds: ROUNDS,
    eventsPerChunk: {
      mean: perChunk.reduce((a, b) => a + b, 0) / Math.max(1, perChunk.length),
      max: Math.max(...perChunk),
    },
    firstEventMs: { p50: percentile(firstEvent, 50), p99: percentile(firstEvent, 99) },
  };
}
