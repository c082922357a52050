/**
 * Over 300 lines because it is the one runner of the side-by-side run: it starts the gateways and fakes, runs
 * the streamed and loaded rounds against each in turn, and prints the report; the other measurements live in
 * bench/in-process.ts, bench/bundles.ts and bench/peers.ts.
 *
 * `npm run bench`: Tollgate side by side with the upstream called directly and with a peer gateway
 * (Portkey's, from npm), in one run on this machine. Fake upstreams on 127.0.0.1 stream N events with a fixed
 * pause; the gateways run as separate processes (`tollgate dev` with its own DynamoDB Local). Measures: added
 * time to first byte (p50/p99, paired) against one DynamoDB Local TransactWriteItems of 3 items timed in the
 * same run; coalesced events; non-streamed throughput and latency at 16 concurrent clients of one key; CPU
 * per request and RSS of each gateway process; RSS across 10,000 requests (`BENCH_RSS_REQUESTS`) and while
 * one 50 MB stream passes; the Anthropic route against the OpenAI route; the handler in-process (CPU,
 * DynamoDB write units per request, its own added first byte, 64-way admission on one team — see
 * in-process.ts); DynamoDB Local's own floor (CPU per call of the lean client and the SDK's, operations/s — see dynamo-floor.ts); the proxy
 * bundle under the real Lambda runtime interface client (events per chunk, first-event delay — see
 * lambda-runtime.ts); bundle sizes and import times. Every loop is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { openLocalState, readRuntime } from '../lib/local/state.ts';
import { startFakeAnthropic } from '../test/fakes/anthropic-upstream.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { type DevProcess, runCliProcess, startDevProcess } from '../test/helpers/dev-process.ts';
import { RIC_MISSING, ricInstalled } from '../test/helpers/lambda-runtime-client.ts';
import { bundleFigures } from './bundles.ts';
import { type DynamoFloor, dynamoFloor } from './dynamo-floor.ts';
import { inProcessBench } from './in-process.ts';
import { lambdaRuntimeBench } from './lambda-runtime.ts';
import { cpuSeconds, rssMiB, startPortkey } from './peers.ts';
import { percentile } from './percentile.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const WARMUP = 10;
const EVENTS = 20;
const GAP_MS = 10;
const CLIENTS = 16;
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 8);
const UPSTREAM_KEY = 'sk-bench-upstream';

interface Sample {
  ttfbMs: number;
  coalesced: number;
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** One streamed request; times the first byte and counts content events that arrived in one read with another. */
async function stream(url: string, headers: Record<string, string>, body: unknown): Promise<Sample> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok || response.body === null)
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let ttfb: number | undefined;
  let coalesced = 0;
  for await (const chunk of response.body) {
    ttfb ??= performance.now() - started;
    const text = decoder.decode(chunk, { stream: true });
    const events = text.split(/"(?:content|text)":"/).length - 1;
    if (events > 1) coalesced += events - 1;
  }
  return { ttfbMs: ttfb ?? Number.NaN, coalesced };
}

/** `clients` concurrent loops of non-streamed requests for `seconds`: requests/s and latency p50. */
async function load(send: () => Promise<Response>, seconds: number, clients = CLIENTS) {
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const response = await send();
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - started);
        else failures += 1;
      }
    }),
  );
  return {
    requests: latencies.length,
    failures,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
  };
}

const RSS_REQUESTS = Number(process.env.BENCH_RSS_REQUESTS ?? 10_000);
const RSS_EVERY = 1_000;

/**
 * `requests` non-streamed requests from 16 clients, sampling the process's RSS every 1,000: growth that
 * stops (heap warming up) and growth that goes on (a leak) tell apart.
 */
async function rssAcross(send: () => Promise<Response>, pid: number, requests: number): Promise<number[]> {
  const samples = [rssMiB(pid)];
  let started = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (started < requests) {
        started += 1;
        await (await send()).arrayBuffer();
        done += 1;
        if (done % RSS_EVERY === 0) samples.push(rssMiB(pid));
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const openai = await startFakeOpenAI(UPSTREAM_KEY);
  const anthropic = await startFakeAnthropic(UPSTREAM_KEY);
  const words = Array.from({ length: EVENTS }, (_, i) => ` w${i}`);
  openai.state.words = words;
  anthropic.state.words = words;
  openai.state.stream = { delayMs: GAP_MS };
  anthropic.state.stream = { delayMs: GAP_MS };
  const memoryHome = mkdtempSync(join(tmpdir(), 'tollgate-bench-memory-'));
  const started: {
    dev?: DevProcess;
    memory?: DevProcess;
    portkey?: Awaited<ReturnType<typeof startPortkey>>;
  } = {};
  try {
    const dev = await startDevProcess(home);
    started.dev = dev;
    // The same gateway on an in-memory DynamoDB Local, loaded beside it: what the emulator's file writes
    // cost each request.
    const memory = await startDevProcess(memoryHome, ['--in-memory']);
    started.memory = memory;
    const portkey = await startPortkey();
    started.portkey = portkey;
    for (const [at, name, type, url] of [
      [home, 'bench', 'openai', openai.baseUrl],
      [home, 'claude', 'anthropic', anthropic.url],
      [memoryHome, 'bench', 'openai', openai.baseUrl],
    ] as const) {
      const added = await runCliProcess(
        ['providers', 'add', name, '--type', type, '--base-url', url, '--models', 'm', '--key-stdin'],
        at,
        UPSTREAM_KEY,
      );
      if (added.code !== 0) throw new Error(`providers add failed: ${added.stderr}`);
    }
    const key = dev.firstKey;
    if (key === undefined) throw new Error('tollgate dev printed no first key');
    const chatBody = { model: 'm', stream: true, messages: [{ role: 'user', content: 'bench' }] };
    const paths = {
      direct: () =>
        stream(`${openai.baseUrl}/chat/completions`, { authorization: `Bearer ${UPSTREAM_KEY}` }, chatBody),
      tollgate: () =>
        stream(
          `${dev.url}/v1/chat/completions`,
          { authorization: `Bearer ${key}` },
          { ...chatBody, model: 'bench/m' },
        ),
      ...(portkey === undefined
        ? {}
        : {
            portkey: () =>
              stream(
                `${portkey.url}/v1/chat/completions`,
                {
                  authorization: `Bearer ${UPSTREAM_KEY}`,
                  'x-portkey-provider': 'openai',
                  'x-portkey-custom-host': openai.baseUrl,
                },
                chatBody,
              ),
          }),
      anthropicDirect: () =>
        stream(
          `${anthropic.url}/v1/messages`,
          { 'x-api-key': UPSTREAM_KEY, 'anthropic-version': '2023-06-01' },
          { ...chatBody, max_tokens: 100 },
        ),
      anthropicTollgate: () =>
        stream(
          `${dev.url}/v1/messages`,
          { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
          { ...chatBody, model: 'claude/m', max_tokens: 100 },
        ),
    };
    const names = Object.keys(paths) as Array<keyof typeof paths>;
    const failed: Record<string, string> = {};
    const samples = Object.fromEntries(names.map((n) => [n, [] as Sample[]])) as Record<string, Sample[]>;
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      // Rotate the order so no path always runs right after another warmed things up.
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length] as keyof typeof paths;
        // A peer that cannot serve a stream is reported as such, not allowed to end the run.
        const sample = await (paths[name] as () => Promise<Sample>)().catch((err: Error) => {
          failed[name] = err.message.slice(0, 160);
          return undefined;
        });
        if (round >= WARMUP && sample !== undefined) samples[name]?.push(sample);
      }
    }
    // One DynamoDB Local transaction of 3 items, on the gateway's own DynamoDB Local, for reference.
    const endpoint = readRuntime(openLocalState(home))?.dynamoEndpoint;
    const ddb = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const table = openLocalState(home).tables.usage;
    const tx: number[] = [];
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const started = performance.now();
      await ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [0, 1, 2].map((n) => ({
            Update: {
              TableName: table,
              Key: { pk: { S: `bench#${n}` }, sk: { S: 'tx' } },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          })),
        }),
      );
      if (i >= WARMUP) tx.push(performance.now() - started);
    }
    ddb.destroy();
    const txP50 = percentile(tx, 50);
    const added = (name: string, base: string): number[] =>
      (samples[name] ?? []).map((s, i) => s.ttfbMs - (samples[base]?.[i]?.ttfbMs ?? 0));
    console.log(
      `\n## Streaming: ${ROUNDS} interleaved rounds (after ${WARMUP} warm-up), ${EVENTS} events ${GAP_MS} ms apart`,
    );
    console.log(`one DynamoDB Local TransactWriteItems (3 items): p50 ${f(txP50, 2)} ms`);
    console.log('| path | TTFB p50 | TTFB p99 | added p50 | added p99 | coalesced events |');
    console.log('|---|---|---|---|---|---|');
    const total = (name: string): number => (samples[name] ?? []).reduce((s, x) => s + x.coalesced, 0);
    for (const [name, base] of [
      ['direct', 'direct'],
      ['tollgate', 'direct'],
      ['portkey', 'direct'],
      ['anthropicDirect', 'anthropicDirect'],
      ['anthropicTollgate', 'anthropicDirect'],
    ] as const) {
      if (samples[name] === undefined) continue;
      if (samples[name].length === 0) {
        console.log(`| ${name} | fails: ${failed[name] ?? 'no sample'} | | | | |`);
        continue;
      }
      const ttfb = samples[name].map((s) => s.ttfbMs);
      const a = added(name, base);
      console.log(
        `| ${name} | ${f(percentile(ttfb, 50), 2)} | ${f(percentile(ttfb, 99), 2)} | ${name === base ? '—' : f(percentile(a, 50), 2)} | ${name === base ? '—' : f(percentile(a, 99), 2)} | ${total(name)} of ${samples[name].length * EVENTS} |`,
      );
    }

    // Non-streamed throughput at 16 concurrent clients of one key, with each gateway's CPU and memory.
    openai.state.stream = {};
    const whole = { model: 'bench/m', messages: [{ role: 'user', content: 'bench' }] };
    const gatewayAt = (url: string, bearer: string | undefined) => () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify(whole),
      });
    const gateways: Array<{
      name: string;
      pid: number | undefined;
      storagePid?: number;
      send: () => Promise<Response>;
    }> = [
      {
        name: 'direct',
        pid: undefined,
        send: () =>
          fetch(`${openai.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ...whole, model: 'm' }),
          }),
      },
      { name: 'tollgate', pid: dev.child.pid, storagePid: dev.dynamoPid, send: gatewayAt(dev.url, key) },
      {
        name: 'tollgate --in-memory',
        pid: memory.child.pid,
        storagePid: memory.dynamoPid,
        send: gatewayAt(memory.url, memory.firstKey),
      },
    ];
    if (portkey !== undefined) {
      gateways.push({
        name: 'portkey',
        pid: portkey.pid,
        send: () =>
          fetch(`${portkey.url}/v1/chat/completions`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${UPSTREAM_KEY}`,
              'content-type': 'application/json',
              'x-portkey-provider': 'openai',
              'x-portkey-custom-host': openai.baseUrl,
            },
            body: JSON.stringify({ ...whole, model: 'm' }),
          }),
      });
    }
    console.log(`\n## ${CLIENTS} concurrent clients of one key, non-streamed, ${LOAD_SECONDS} s each`);
    console.log(
      '| path | requests/s | latency p50 ms | failures | process CPU ms/request | RSS MiB before → after |',
    );
    console.log('|---|---|---|---|---|---|');
    const shares: Array<{ name: string; storage: number; gateway: number; bench: number }> = [];
    for (const g of gateways) {
      const cpu = g.pid === undefined ? 0 : cpuSeconds(g.pid);
      const storageCpu = g.storagePid === undefined ? 0 : cpuSeconds(g.storagePid);
      const benchCpu = process.cpuUsage();
      const rss = g.pid === undefined ? 0 : rssMiB(g.pid);
      const r = await load(g.send, LOAD_SECONDS);
      const cpuMs =
        g.pid === undefined ? Number.NaN : ((cpuSeconds(g.pid) - cpu) * 1000) / Math.max(1, r.requests);
      if (g.storagePid !== undefined) {
        const used = process.cpuUsage(benchCpu);
        shares.push({
          name: g.name,
          storage: ((cpuSeconds(g.storagePid) - storageCpu) * 1000) / Math.max(1, r.requests),
          gateway: cpuMs,
          bench: (used.user + used.system) / 1000 / Math.max(1, r.requests),
        });
      }
      const rssAfter = g.pid === undefined ? Number.NaN : rssMiB(g.pid);
      console.log(
        `| ${g.name} | ${f(r.perSecond)} | ${f(r.p50)} | ${r.failures} | ${f(cpuMs, 2)} | ${g.pid === undefined ? '—' : `${f(rss)} → ${f(rssAfter)} (${r.requests} requests)`} |`,
      );
    }

    // Every process of that load shares this machine's cores: their CPU per request bounds the rate.
    const cores = availableParallelism();
    for (const share of shares) {
      const perRequest = share.storage + share.gateway + share.bench;
      console.log(
        `CPU per request of \`${share.name}\` under that load: DynamoDB Local ${f(share.storage, 2)} ms (its Java process), the gateway ${f(share.gateway, 2)}, this bench's clients and fake upstream ${f(share.bench, 2)}; ${f(perRequest, 2)} ms in all, so ${cores} cores serve at most ${f((cores * 1000) / perRequest)} requests/s (300 requests/s would leave ${f((cores * 1000) / 300, 2)} ms for all three)`,
      );
    }

    const tollgate = gateways.find((g) => g.name === 'tollgate');
    if (tollgate?.pid !== undefined) {
      const rss = await rssAcross(tollgate.send, tollgate.pid, RSS_REQUESTS);
      console.log(
        `\n## RSS of tollgate dev across ${RSS_REQUESTS} requests (16 clients), MiB every ${RSS_EVERY}: ${rss.map((r) => f(r)).join(' → ')}`,
      );
    }

    // One 50 MB stream through Tollgate: its memory while the stream passes.
    openai.state.words = Array.from({ length: 50 }, () => 'x'.repeat(1_000_000));
    const pid = dev.child.pid ?? 0;
    const before = rssMiB(pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid));
    }, 20);
    const big = await stream(
      `${dev.url}/v1/chat/completions`,
      { authorization: `Bearer ${key}` },
      { ...chatBody, model: 'bench/m' },
    );
    clearInterval(sampler);
    console.log(
      `\n## One 50 MB stream through tollgate dev: RSS ${f(before)} MiB before, peak ${f(peak)} MiB (TTFB ${f(big.ttfbMs)} ms)`,
    );
  } finally {
    // Each stopped whatever another's stop does.
    await Promise.allSettled([
      started.portkey?.stop(),
      started.dev?.stop(),
      started.memory?.stop(),
      openai.close(),
      anthropic.close(),
    ]);
    rmSync(memoryHome, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
  if (started.portkey === undefined)
    console.log('\n(Portkey could not be installed: npm install --prefix bench failed)');

  const inProcess = await inProcessBench();
  console.log(
    `\n## The proxy handler in-process (${inProcess.requests} non-streamed requests, key with a limit in a team with a budget, configuration checked every 2 s as on Lambda)`,
  );
  console.log(
    `handler CPU ${f(inProcess.handlerCpuMsPerRequest, 2)} ms/request; DynamoDB ${f(inProcess.writeUnitsPerRequest, 2)} write units, ${f(inProcess.writesPerRequest, 2)} writes and ${f(inProcess.readsPerRequest, 2)} reads per request`,
  );
  console.log(
    `streamed first byte added by the handler alone (no local emulation), ${inProcess.addedTtfbMs.rounds} paired rounds: p50 ${f(inProcess.addedTtfbMs.p50, 2)} ms, p99 ${f(inProcess.addedTtfbMs.p99, 2)} ms`,
  );
  const t = inProcess.teamAdmissions;
  console.log(
    `${t.concurrent} concurrent admissions on one team: ${t.admitted} admitted, ${f(t.conflictsPerAdmitted, 3)} transaction conflicts retried per admitted request, p50 ${f(t.p50Ms)} ms`,
  );

  console.log(
    `write units of one admission / one settlement of a key's month with requests of the key in flight (each keeps its receipt on the item, which DynamoDB bills by size): ${inProcess.inFlightUnits.map((u) => `${u.inFlight} in flight ${u.admission} / ${u.settlement}`).join(', ')}`,
  );

  const floor = await dynamoFloor();
  const perRequest = (o: DynamoFloor['opsPerSecond']) =>
    1 / (inProcess.writesPerRequest / o.sameItemUpdate + inProcess.readsPerRequest / o.consistentGet);
  console.log(
    `\n## DynamoDB Local's floor (its own instance; ${CLIENTS} concurrent callers)\n` +
      `CPU per call in this process, the gateway's lean client: GetItem ${f(floor.cpuMsPerCall.lean.get, 3)} ms, UpdateItem ${f(floor.cpuMsPerCall.lean.update, 3)} ms (the SDK's document client: ${f(floor.cpuMsPerCall.sdk.get, 3)} and ${f(floor.cpuMsPerCall.sdk.update, 3)} ms); ` +
      `one UpdateItem's round trip p50 ${f(floor.updateLatencyMs.p50, 2)} ms, p99 ${f(floor.updateLatencyMs.p99, 2)} ms; ` +
      `operations/s: ${f(floor.opsPerSecond.sameItemUpdate, 0)} updates of one item, ${f(floor.opsPerSecond.distinctItemUpdate, 0)} of distinct items, ${f(floor.opsPerSecond.consistentGet, 0)} consistent reads; ` +
      `so about ${f(perRequest(floor.opsPerSecond), 0)} requests/s of one key with ${f(inProcess.writesPerRequest, 0)} writes (priced as updates of one item) and ${f(inProcess.readsPerRequest, 0)} reads each, before the gateway's own CPU`,
  );
  // The handler's CPU apart: what its calls cost at the floor's prices, and what is left for its own work.
  const calls = inProcess.writesPerRequest + inProcess.readsPerRequest;
  const inCalls =
    inProcess.writesPerRequest * floor.cpuMsPerCall.lean.update +
    inProcess.readsPerRequest * floor.cpuMsPerCall.lean.get +
    floor.upstreamFetchCpuMs;
  console.log(
    `the handler's ${f(inProcess.handlerCpuMsPerRequest, 2)} ms apart: ${f(calls, 2)} DynamoDB calls at the floor's CPU per call and one upstream \`fetch\` (${f(floor.upstreamFetchCpuMs, 3)} ms) come to ${f(inCalls, 2)} ms; the other ${f(inProcess.handlerCpuMsPerRequest - inCalls, 2)} ms are its own work (parsing, limits, the answer's stream, logs, metrics, collection)`,
  );

  if (ricInstalled) {
    const ric = await lambdaRuntimeBench();
    console.log(
      `\n## The proxy bundle under the real runtime interface client (aws-lambda-ric, ${ric.rounds} streamed answers of 20 events 10 ms apart)`,
    );
    console.log(
      `SSE events per chunk reaching the Runtime API: mean ${f(ric.eventsPerChunk.mean, 2)}, max ${ric.eventsPerChunk.max}; first event ${f(ric.firstEventMs.p50)} ms p50 / ${f(ric.firstEventMs.p99)} ms p99 after the invocation`,
    );
  } else console.log(`\n## The proxy bundle under the real runtime interface client: ${RIC_MISSING}`);

  console.log('\n## Lambda bundles (minified)');
  console.log(
    '| bundle | KiB | gzipped KiB | import ms (median of 5) | credential-chain code | event streams, endpoint cache |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const b of await bundleFigures()) {
    console.log(
      `| ${b.name} | ${f(b.bytes / 1024)} | ${f(b.gzip / 1024)} | ${f(b.importMs)} | ${b.credentialChain.length === 0 ? 'none' : b.credentialChain.join(', ')} | ${b.sdkFeatures.length === 0 ? 'none' : b.sdkFeatures.join(', ')} |`,
    );
  }
}

// Handlers in this process log through Powertools; the bench prints only its own tables.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
  String(chunk).startsWith('{"') ? true : write(chunk, ...rest)) as typeof process.stdout.write;
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
await main();
