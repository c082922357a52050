/**
 * `npm run bench`: what the gateway adds to time-to-first-byte and to the gaps between streamed events.
 *
 * A fake OpenAI upstream on 127.0.0.1 streams N events with a fixed pause between them. The local gateway
 * runs as a separate `tollgate dev` process (its own DynamoDB Local and state folder). Each round sends
 * one streamed request straight to the upstream and one through the gateway, interleaved so drift in
 * machine load hits both alike. Reports p50/p99 of each and of the paired differences, and the size of
 * each Lambda bundle built with the stack's own esbuild options. Bounded by round count and wall time.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, LAMBDA_ENTRIES, type LambdaName } from '../lib/bundling.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { runCliProcess, startDevProcess } from '../test/helpers/dev-process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const WARMUP = 10;
const EVENTS = 20;
const GAP_MS = 10;
const TIME_LIMIT_MS = 120_000;
const UPSTREAM_KEY = 'sk-bench-upstream';

interface Sample {
  ttfbMs: number;
  gapsMs: number[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** One streamed request; times the first body byte and the arrival of every complete SSE event. */
async function measure(url: string, apiKey: string, model: string): Promise<Sample> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'bench' }] }),
  });
  if (!response.ok || response.body === null)
    throw new Error(`status ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let ttfb: number | undefined;
  let buffer = '';
  const arrivals: number[] = [];
  for await (const chunk of response.body) {
    const now = performance.now();
    ttfb ??= now - started;
    buffer += decoder.decode(chunk, { stream: true });
    let at = buffer.indexOf('\n\n');
    while (at !== -1) {
      if (buffer.slice(0, at).includes('"content":"')) arrivals.push(now);
      buffer = buffer.slice(at + 2);
      at = buffer.indexOf('\n\n');
    }
  }
  const gapsMs = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t));
  return { ttfbMs: ttfb ?? Number.NaN, gapsMs };
}

async function bundleSizes(): Promise<Array<{ name: string; bytes: number; gzip: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-bundles-'));
  const sizes = [];
  for (const name of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
    const outfile = join(dir, `${name}.mjs`);
    await build(esbuildOptions(name, outfile));
    sizes.push({ name, bytes: statSync(outfile).size, gzip: gzipSync(readFileSync(outfile)).length });
  }
  rmSync(dir, { recursive: true, force: true });
  return sizes;
}

function row(label: string, direct: number[], gateway: number[], paired: number[]): string {
  const f = (n: number): string => n.toFixed(2).padStart(8);
  return `${label.padEnd(22)}${f(percentile(direct, 50))}${f(percentile(direct, 99))}${f(percentile(gateway, 50))}${f(percentile(gateway, 99))}${f(percentile(paired, 50))}${f(percentile(paired, 99))}`;
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const fake = await startFakeOpenAI(UPSTREAM_KEY);
  fake.state.words = Array.from({ length: EVENTS }, (_, i) => ` w${i}`);
  fake.state.stream = { delayMs: GAP_MS };
  const dev = await startDevProcess(home);
  try {
    const added = await runCliProcess(
      ['providers', 'add', 'bench', '--type', 'openai', '--base-url', fake.baseUrl, '--key-stdin'],
      home,
      UPSTREAM_KEY,
    );
    if (added.code !== 0) throw new Error(`providers add failed: ${added.stderr}`);
    const key = dev.firstKey;
    if (key === undefined) throw new Error('tollgate dev printed no first key');
    const direct: Sample[] = [];
    const gateway: Sample[] = [];
    const deadline = Date.now() + TIME_LIMIT_MS;
    for (let round = 0; round < WARMUP + ROUNDS && Date.now() < deadline; round++) {
      // Alternate which path goes first so neither always runs right after the other warmed things up.
      const viaDirect = (): Promise<Sample> => measure(`${fake.baseUrl}/chat/completions`, UPSTREAM_KEY, 'm');
      const viaGateway = (): Promise<Sample> => measure(`${dev.url}/v1/chat/completions`, key, 'bench/m');
      let directSample: Sample;
      let gatewaySample: Sample;
      if (round % 2 === 0) {
        directSample = await viaDirect();
        gatewaySample = await viaGateway();
      } else {
        gatewaySample = await viaGateway();
        directSample = await viaDirect();
      }
      if (round >= WARMUP) {
        direct.push(directSample);
        gateway.push(gatewaySample);
      }
    }
    const pairedTtfb = gateway.map((g, i) => g.ttfbMs - (direct[i]?.ttfbMs ?? 0));
    const directGaps = direct.flatMap((s) => s.gapsMs);
    const gatewayGaps = gateway.flatMap((s) => s.gapsMs);
    const pairedGaps = gateway.flatMap((g, i) =>
      g.gapsMs.map((gap, j) => gap - (direct[i]?.gapsMs[j] ?? gap)),
    );
    console.log(
      `rounds: ${gateway.length} (after ${WARMUP} warm-up), ${EVENTS} events per stream, upstream pause ${GAP_MS} ms`,
    );
    console.log(`${''.padEnd(22)}${'direct'.padStart(16)}${'gateway'.padStart(16)}${'added'.padStart(16)}`);
    console.log(
      `${'ms'.padEnd(22)}${['p50', 'p99', 'p50', 'p99', 'p50', 'p99'].map((s) => s.padStart(8)).join('')}`,
    );
    console.log(
      row(
        'time to first byte',
        direct.map((s) => s.ttfbMs),
        gateway.map((s) => s.ttfbMs),
        pairedTtfb,
      ),
    );
    console.log(row('inter-event gap', directGaps, gatewayGaps, pairedGaps));
    for (const size of await bundleSizes()) {
      console.log(
        `bundle ${size.name}: ${(size.bytes / 1024).toFixed(1)} KiB minified, ${(size.gzip / 1024).toFixed(1)} KiB gzipped`,
      );
    }
  } finally {
    await dev.stop();
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
