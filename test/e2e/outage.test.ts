/**
 * A DynamoDB outage while requests are in flight, through the local gateway: the gateway talks to a
 * DynamoDB Local of this file's own through a TCP pass-through the test cuts and restores. Settlement
 * fails loudly (logged with the request id and cost), the reservations stay until they expire, and after
 * recovery the sweep bills them at their estimate: nothing stays reserved.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import { DEFAULT_RESERVATION_TTL_MS } from '#shared/store/metering.ts';
import { storesFromEnv } from '../../lib/cli/context.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../lib/local/dynamodb-local.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { applyLocalEnv, openLocalState } from '../../lib/local/state.ts';
import { ensureTables, localTableNames } from '../../lib/local/tables.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { startCuttableProxy } from '../helpers/cuttable-proxy.ts';
import { deferred } from '../helpers/http.ts';

const UPSTREAM_KEY = 'sk-upstream-outage-3c4d';
const PRICE = { inputPerMTok: 1000, outputPerMTok: 2000 };
const BODY = {
  model: 'openai/gpt-4o',
  stream: true,
  max_tokens: 10,
  messages: [{ role: 'user', content: 'Hi' }],
};
/** The admission estimate: input from the body's size, output from its cap. */
const ESTIMATE = Math.ceil(
  Math.ceil(Buffer.byteLength(JSON.stringify(BODY)) / 4) * PRICE.inputPerMTok + 10 * PRICE.outputPerMTok,
);

let dynamo: DynamoDbLocal;
let link: Awaited<ReturnType<typeof startCuttableProxy>>;
let stores: ReturnType<typeof storesFromEnv>;
let gateway: RunningGateway;
let fake: FakeOpenAI;
let logLines: string[];
let restoreStdout: () => void;

beforeAll(async () => {
  process.env[ENV.credentialCacheSeconds] = '0';
  // Errors are logged on stderr, the rest on stdout: the test reads both.
  const capture = captureStdout();
  logLines = capture.lines;
  const stderr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    logLines.push(String(chunk));
    return stderr(chunk, ...rest);
  }) as typeof process.stderr.write;
  restoreStdout = () => {
    capture.restore();
    process.stderr.write = stderr;
  };
  dynamo = await startDynamoDbLocal({});
  link = await startCuttableProxy(dynamo.endpoint);
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const state = {
    ...openLocalState(mkdtempSync(join(tmpdir(), 'tollgate-outage-'))),
    tables: localTableNames('outage'),
  };
  applyLocalEnv(state, link.endpoint);
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  await ensureTables(client, state.tables);
  client.destroy();
  stores = storesFromEnv({ id: 'local:test-suite' });
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  await stores.providers.setPrice('openai', 'gpt-4o', PRICE);
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
}, 120_000);

afterAll(async () => {
  restoreStdout?.();
  await gateway?.close();
  await fake?.close();
  await link?.close();
  await dynamo?.stop();
});

/** Starts a streamed request and returns once its first content event arrived (it is admitted and streaming). */
async function streaming(key: string) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(BODY),
  });
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error(`no body: ${response.status}`);
  let seen = '';
  while (!seen.includes('"content":"Hello"')) seen += new TextDecoder().decode((await reader.read()).value);
  const rest = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  return { id: response.headers.get('x-request-id') ?? '', done: rest };
}

it('leaves no reservation behind after a DynamoDB outage mid-flight', async () => {
  // Prepare: three requests admitted and streaming, their upstream holding its last word.
  const created = await stores.keys.create({ name: 'outage', monthlyLimitMicros: 10_000_000 });
  const keyId = created.key.keyId;
  const release = deferred();
  fake.state.stream = { gate: release.promise, gateTimeoutMs: 20_000 };
  const inFlight = await Promise.all([1, 2, 3].map(() => streaming(created.plaintext)));
  const held = await stores.meter.monthSpend(`key#${keyId}`);

  // Act: the database goes away, the streams end, their settlements fail; then it comes back.
  link.cut();
  release.resolve();
  await Promise.all(inFlight.map((r) => r.done));
  link.restore();
  const stuck = await stores.meter.monthSpend(`key#${keyId}`);
  const reconciled = await stores.meter.sweep(new Date(Date.now() + DEFAULT_RESERVATION_TTL_MS + 1000));
  const after = await stores.meter.monthSpend(`key#${keyId}`);

  // Assess: each failure was logged with its request id; after the sweep nothing is reserved and each
  // request is billed at its estimate.
  expect(held).toMatchObject({ reservedMicros: 3 * ESTIMATE, spentMicros: 0 });
  for (const { id } of inFlight) {
    expect(logLines.some((l) => l.includes('"settlement failed"') && l.includes(id))).toBe(true);
  }
  expect(stuck).toMatchObject({ reservedMicros: 3 * ESTIMATE, spentMicros: 0 });
  expect(reconciled).toBe(3);
  expect(after).toMatchObject({ reservedMicros: 0, spentMicros: 3 * ESTIMATE });
  expect((await stores.meter.keyStats(keyId)).requests).toBe(3);
}, 60_000);
