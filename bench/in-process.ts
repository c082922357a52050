/**
 * The proxy handler measured in-process, without the local emulation: its own CPU per request, DynamoDB
 * write units and operations per request (counted by an SDK middleware), and admission at 64 concurrent
 * requests on one team (transaction conflicts retried per admitted request). DynamoDB Local of its own,
 * a fake OpenAI upstream on 127.0.0.1. Bounded by request counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { readEnv } from '#shared/env.ts';
import type { GatewayRequest } from '#shared/http.ts';
import { documentClient } from '#shared/store/db.ts';
import { storesFromEnv } from '#shared/store/stores.ts';
import { proxyFromEnv } from '../lambdas/proxy/deps.ts';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { applyLocalEnv, openLocalState } from '../lib/local/state.ts';
import { ensureTables, localTableNames } from '../lib/local/tables.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { countWriteUnits } from '../test/helpers/write-units.ts';

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
    const db = documentClient();
    const count = countWriteUnits(db);
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
    const handlerMicros = used.user + used.system - (upstreamUsed.user + upstreamUsed.system) / 2;
    const result = {
      requests: REQUESTS,
      handlerCpuMsPerRequest: handlerMicros / 1000 / REQUESTS,
      writeUnitsPerRequest: perRequest(count.units),
      writesPerRequest: perRequest(count.writes),
      readsPerRequest: perRequest(count.reads),
      teamAdmissions: await teamAdmissions(team.teamId),
    };
    db.destroy();
    return result;
  } finally {
    await fake.close();
    await dynamo.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** 64 concurrent admissions on one team (64 keys), settled at once: conflicts retried per admission. */
async function teamAdmissions(teamId: string): Promise<InProcessResult['teamAdmissions']> {
  const db = documentClient();
  const counted = countWriteUnits(db);
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
  db.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrent: CONCURRENT,
    admitted,
    conflictsPerAdmitted: counted.conflicts / admitted,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await inProcessBench(), null, 2));
}
