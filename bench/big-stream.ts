/**
 * `node bench/big-stream.ts` (through npm's Node: `npx node bench/big-stream.ts`): the memory of
 * `tollgate dev` while one 50 MB streamed answer of 1 MB events passes, for each wire format (OpenAI,
 * Anthropic, Gemini). The fake upstreams run in this process, so their own copies of the answer are not
 * counted: only the gateway process is measured, by sampling its RSS and by its kernel-kept peak (VmHWM,
 * reset before each stream through /proc/PID/clear_refs). `BIG_STREAM_APIS=openai` runs one format only;
 * `BIG_STREAM_EVENTS` sets the answer's size in MB; `BIG_STREAM_GATEWAY_HEAP_MIB` caps the gateway's V8 old
 * space, so an answer held whole in the heap would end the stream with an out-of-memory crash.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAnthropic } from '../test/fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../test/fakes/gemini-upstream.ts';
import { startFakeOpenAI } from '../test/fakes/openai-upstream.ts';
import { runCliProcess, startDevProcess } from '../test/helpers/dev-process.ts';
import { rssMiB } from './peers.ts';

const KEY = 'sk-bench-upstream';
const EVENTS = Number(process.env.BIG_STREAM_EVENTS ?? 50);
const EVENT_CHARS = 1_000_000;
const GATEWAY_HEAP_MIB = process.env.BIG_STREAM_GATEWAY_HEAP_MIB;
// Children inherit NODE_OPTIONS; this process has already started with its own.
if (GATEWAY_HEAP_MIB !== undefined) process.env.NODE_OPTIONS = `--max-old-space-size=${GATEWAY_HEAP_MIB}`;

/** The kernel's peak RSS of a process since the last reset, in MiB. */
function peakMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

/** Resets the peak to the current RSS (5 is "reset peak RSS" for clear_refs). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Reads a whole streamed answer, keeping only its size. */
async function drain(response: Response): Promise<number> {
  if (!response.ok || response.body === null) throw new Error(`${response.status} ${await response.text()}`);
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.length;
  return bytes;
}

/** One format's run on a `tollgate dev` of its own, so no stream inherits the heap another one grew. */
async function measure(name: 'openai' | 'anthropic' | 'gemini'): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-big-'));
  const fake =
    name === 'openai'
      ? { up: await startFakeOpenAI(KEY), url: '' }
      : name === 'anthropic'
        ? { up: await startFakeAnthropic(KEY), url: '' }
        : { up: await startFakeGemini(KEY), url: '' };
  fake.url = name === 'openai' ? `${fake.up.url}/v1` : fake.up.url;
  const dev = await startDevProcess(home);
  try {
    const added = await runCliProcess(
      ['providers', 'add', 'p', '--type', name, '--base-url', fake.url, '--models', 'm', '--key-stdin'],
      home,
      KEY,
    );
    if (added.code !== 0) throw new Error(`providers add failed: ${added.stderr}`);
    const key = dev.firstKey ?? '';
    const post = (path: string, headers: Record<string, string>, body: unknown): Promise<Response> =>
      fetch(`${dev.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const messages = [{ role: 'user', content: 'bench' }];
    const send = {
      openai: () =>
        post(
          '/v1/chat/completions',
          { authorization: `Bearer ${key}` },
          { model: 'p/m', stream: true, messages },
        ),
      anthropic: () =>
        post(
          '/v1/messages',
          { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
          { model: 'p/m', stream: true, max_tokens: 100, messages },
        ),
      gemini: () =>
        post(
          '/v1beta/models/p%2Fm:streamGenerateContent?alt=sse',
          { 'x-goog-api-key': key },
          { contents: [{ role: 'user', parts: [{ text: 'bench' }] }] },
        ),
    }[name];
    const pid = dev.child.pid ?? 0;
    // Warm the route with small answers first, so the baseline holds the loaded handler.
    for (let i = 0; i < 5; i++) await drain(await send());
    fake.up.state.words = Array.from({ length: EVENTS }, () => 'x'.repeat(EVENT_CHARS));
    const before = rssMiB(pid);
    resetPeak(pid);
    let sampled = before;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, rssMiB(pid));
    }, 5);
    const started = performance.now();
    const bytes = await drain(await send());
    const ms = performance.now() - started;
    clearInterval(sampler);
    const hwm = peakMiB(pid);
    return `| ${name} | ${bytes} | ${ms.toFixed(0)} | ${before.toFixed(1)} | ${sampled.toFixed(1)} | ${hwm.toFixed(1)} | ${(Math.max(hwm, sampled) - before).toFixed(1)} |`;
  } finally {
    await dev.stop();
    await fake.up.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const chosen = (process.env.BIG_STREAM_APIS ?? 'openai,anthropic,gemini').split(',') as Array<
  'openai' | 'anthropic' | 'gemini'
>;
console.log(
  '| API | bytes streamed | ms | RSS before MiB | peak sampled MiB | peak VmHWM MiB | above baseline MiB |',
);
console.log('|---|---|---|---|---|---|---|');
for (const name of chosen) console.log(await measure(name));
