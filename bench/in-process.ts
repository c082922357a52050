/**
 * The proxy handler measured in-process, without the local emulation: its own CPU per request, DynamoDB
 * write units and operations per request (counted by an SDK middleware), the streamed time to first byte it
 * adds to the upstream's (paired rounds), admission at 64 concurrent requests on one team (transaction
 * conflicts retried per admitted request), and what one write of a counter costs with requests in flight
 * on it (each keeps a receipt there). DynamoDB Local of its own, a fake OpenAI upstream on 127.0.0.1.
 * Bounded by request counts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { readEnv } from '#shared/env.ts';
import type { GatewayRequest } from '#shared/http.ts';
import { storesFromEnv } from '#shared/store/stores.ts';
import { proxyFromEnv } from '../lambdas/proxy/deps.ts';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { applyLocalEnv, openLocalState } from '../lib/local/state.ts';
import { ensureTables, localTableNames } from '../lib/local/tables.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { countWriteUnits } from '../test/helpers/write-units.ts';
import { percentile } from './percentile.ts';

const REQUESTS = Number(process.env.BENCH_INPROCESS_REQUESTS ?? 300);
const CONCURRENT = 64;

/** What the in-process bench measured. */
export interface InProcessResult {
  requests: number;
  handlerCpuMsPerRequest: number;
  writeUnitsPerRequest: number;
  writesPerRequest: number;
  readsPerRequest: number;
  teamAdmissions: { concurrent: number; admitted: number; conflictsPerAdmitted: number; p50Ms: number };
  /** Write units of one admission and one settlement of a key's month with this many requests in flight. */
  inFlightUnits: Array<{ inFlight: number; admission: number; settlement: number }>;
  /** Streamed time to first byte added by the handler alone (no emulation), paired with the upstream direct. */
  addedTtfbMs: { p50: number; p99: number; rounds: number };
}

const TTFB_ROUNDS = 100;

/** Milliseconds from `start` until the first chunk of `body` (which is then read to its end). */
async function firstByte(started: number, body: string | ReadableStream<Uint8Array> | null): Promise<number> {
  let at: number | undefined;
  if (body === null || typeof body === 'string') return performance.now() - started;
  for await (const _ of body) at ??= performance.now();
  return (at ?? performance.now()) - started;
}

async function drain(body: string | ReadableStream<Uint8Array>): Promise<void> {
  if (typeof body === 'string') return;
  for await (const _ of body) {
    // read to the end, as a client would
  }
}

/** Runs the in-process measurements. */
export async function inProcessBench(): Promise<InProcessResult> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-bench-inproc-'));
  const dynamo = await startDynamoDbLocal({});
  const fake = await startFakeOpenAI('sk-bench-inproc');
  try {
    const state = { ...openLocalState(home), tables: localTableNames('bench') };
    applyLocalEnv(state, dynamo.endpoint);
    process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '300';
    // As on Lambda, where the configuration version is compared every 2 s, not before every request.
    process.env.TOLLGATE_CONFIG_CHECK_MS = '2000';
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
    await ensureTables(client, state.tables);
    await client.send(new ListTablesCommand({}));
    client.destroy();
    const env = readEnv();
    const admin = storesFromEnv(env, { id: 'local:bench' });
    await admin.providers.add(
      { name: 'bench', type: 'openai', baseUrl: fake.baseUrl, models: ['m'] },
      { secret: 'sk-bench-inproc' },
    );
    await admin.providers.setPrice('bench', 'm', { inputPerMTok: 1, outputPerMTok: 2 });
    const team = await admin.teams.create('bench-team', 1_000_000_000_000);
    const created = await admin.keys.create({ name: 'bench', teamId: team.teamId, monthlyLimitMicros: 1e12 });
    const { db, count } = countWriteUnits();
    const proxy = proxyFromEnv(env, storesFromEnv(env, undefined, db));
    const auth = {
      keyId: created.key.keyId,
      keyName: 'bench',
      models: [],
      teamId: team.teamId,
      limits: { monthlyLimitMicros: 1e12, teamBudgetMicros: 1_000_000_000_000 },
    };
    const request = (i: number): GatewayRequest => ({
      requestId: `bench-${i}-${Date.now()}`,
      method: 'POST',
      resource: '/v1/chat/completions',
      path: '/v1/chat/completions',
      params: {},
      headers: { authorization: `Bearer ${created.plaintext}`, 'content-type': 'application/json' },
      query: {},
      body: JSON.stringify({
        model: 'bench/m',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'bench' }],
      }),
      auth,
      signal: new AbortController().signal,
    });
    // Warm caches (providers, settings, connections) before measuring.
    for (let i = 0; i < 20; i++) await drain((await proxy.handle(request(-i - 1))).body);
    Object.assign(count, { units: 0, writes: 0, reads: 0, conflicts: 0 });
    const cpu = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await drain((await proxy.handle(request(i))).body);
    // Settlement runs after the answer; let the last ones land before counting.
    await new Promise((r) => setTimeout(r, 300));
    const used = process.cpuUsage(cpu);
    const measured = { ...count };
    const perRequest = (n: number): number => n / REQUESTS;
    // The fake upstream runs in this process too: its share is not the handler's, so it is measured alone.
    const upstreamCpu = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      await (
        await fetch(`${fake.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer sk-bench-inproc', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'bench' }] }),
        })
      ).text();
    }
    const upstreamUsed = process.cpuUsage(upstreamCpu);
    // Streamed first byte, the handler against the upstream direct in alternate rounds (paired).
    const added: number[] = [];
    const streamed = { model: 'm', stream: true, messages: [{ role: 'user', content: 'bench' }] };
    for (let i = 0; i < TTFB_ROUNDS; i++) {
      const direct = performance.now();
      const upstream = await fetch(`${fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-bench-inproc', 'content-type': 'application/json' },
        body: JSON.stringify(streamed),
      });
      const directMs = await firstByte(direct, upstream.body);
      const viaHandler = performance.now();
      const answer = await proxy.handle({
        ...request(REQUESTS + i),
        body: JSON.stringify({ ...streamed, model: 'bench/m', max_tokens: 16 }),
      });
      if (answer.status !== 200)
        throw new Error(`the handler answered ${answer.status} to a streamed request`);
      added.push((await firstByte(viaHandler, answer.body)) - directMs);
      // Settlement runs after the answer's end: let it land before the next pair is timed.
      await new Promise((r) => setTimeout(r, 20));
    }
    const handlerMicros = used.user + used.system - (upstreamUsed.user + upstreamUsed.system) / 2;
    const result = {
      requests: REQUESTS,
      handlerCpuMsPerRequest: handlerMicros / 1000 / REQUESTS,
      writeUnitsPerRequest: perRequest(measured.units),
      writesPerRequest: perRequest(measured.writes),
      readsPerRequest: perRequest(measured.reads),
      teamAdmissions: await teamAdmissions(team.teamId),
      inFlightUnits: await inFlightUnits(),
      addedTtfbMs: { p50: percentile(added, 50), p99: percentile(added, 99), rounds: TTFB_ROUNDS },
    };
    return result;
  } finally {
    await fake.close();
    await dynamo.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** 64 concurrent admissions on one team (64 keys), settled at once: conflicts retried per admission. */
async function teamAdmissions(teamId: string): Promise<InProcessResult['teamAdmissions']> {
  const { db, count: counted } = countWriteUnits();
  const meter = storesFromEnv(readEnv(), undefined, db).meter;
  const latencies: number[] = [];
  let admitted = 0;
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const started = performance.now();
        const admission = await meter.admit({
          requestId: `team-${round}-${i}`,
          keyId: `team-key-${i}`,
          teamId,
          limits: { teamBudgetMicros: 1_000_000_000_000, monthlyLimitMicros: 1e12 },
          estimateMicros: 100,
          estimateTokens: 10,
          at: new Date(),
        });
        latencies.push(performance.now() - started);
        admitted += 1;
        await meter.settle(admission, 50, 5);
      }),
    );
  }
  latencies.sort((a, b) => a - b);
  return {
    concurrent: CONCURRENT,
    admitted,
    conflictsPerAdmitted: counted.conflicts / admitted,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
  };
}

const IN_FLIGHT = [0, 16, 100, 500] as const;

/**
 * One admission and one settlement on a key's month while `n` other requests of the key are in flight
 * (admitted with API Gateway's UUID request ids, not settled), for each `n` of {@link IN_FLIGHT}.
 */
async function inFlightUnits(): Promise<InProcessResult['inFlightUnits']> {
  const { db, count } = countWriteUnits();
  const meter = storesFromEnv(readEnv(), undefined, db).meter;
  const admit = () =>
    meter.admit({
      requestId: randomUUID(),
      keyId: 'in-flight-key',
      limits: { monthlyLimitMicros: 1e12 },
      estimateMicros: 123_456,
      estimateTokens: 0,
      at: new Date(),
    });
  const out: InProcessResult['inFlightUnits'] = [];
  let open = 0;
  for (const inFlight of IN_FLIGHT) {
    for (; open < inFlight; open++) await admit();
    count.units = 0;
    const admission = await admit();
    const admitted = count.units;
    count.units = 0;
    await meter.settle(admission, 1000, 10);
    out.push({ inFlight, admission: admitted, settlement: count.units });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await inProcessBench(), null, 2));
}
