/**
 * The proxy as Lambda runs it: its bundle under the real runtime interface client (`aws-lambda-ric`) against
 * the Runtime API fake, on DynamoDB Local, with the fake upstream paced by the test. Public reports say the
 * Node.js runtime holds small response-stream writes back (until ~16 KB or the end); here each upstream
 * event is released only once the previous one has reached the Runtime API, so a runtime that holds events
 * back stalls the stream and the test fails — no timing is asserted. A caller who leaves (the service drops
 * the streamed response's connection) must abort the upstream before its next event and bill what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../../fakes/lambda-runtime-api.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-upstream.ts';
import {
  type ProxyUnderRic,
  RIC_MISSING,
  ricInstalled,
  startProxyUnderRic,
  streamedChatEvent,
} from '../../helpers/lambda-runtime-client.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-ric-5e6f';
/** Distinct words, so the test can tell which event has arrived. */
const WORDS = Array.from({ length: 6 }, (_, i) => `tok${i}x `);
/** How long the fake waits for an event to arrive before sending the next anyway (then the test fails). */
const HOLD_BOUND_MS = 5000;

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let ric: ProxyUnderRic;
let key: string;

beforeAll(async () => {
  if (!ricInstalled) return;
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  fake.state.words = WORDS;
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('openai', 'gpt-4o', { inputPerMTok: 0, outputPerMTok: 1000 });
  key = (await env.stores.keys.create({ name: 'ric', monthlyLimitMicros: 5_000_000 })).plaintext;
  ric = await startProxyUnderRic({ ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' });
}, 120_000);

afterAll(async () => {
  await ric?.stop();
  await fake?.close();
});

const chatEvent = () => streamedChatEvent(key, 'openai/gpt-4o');

/** Resolves once `text` has arrived in `record`'s body, or after the bound (answering false). */
function arrival(record: () => InvocationRecord | undefined, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const has = (): boolean => record()?.body().includes(text) === true;
    if (has()) return resolve(true);
    const timer = setTimeout(() => {
      stop();
      resolve(false);
    }, HOLD_BOUND_MS);
    const stop = ric.api.onChunk(() => {
      if (!has()) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}

async function loggedEntry(requestId: string) {
  for (let i = 0; i < 300; i++) {
    const entry = await env.stores.requestLog.get(requestId);
    if (entry !== undefined) return entry;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`request ${requestId} never reached the request log`);
}

describe.skipIf(!ricInstalled)(
  ricInstalled ? 'the proxy under the real Lambda runtime interface client' : RIC_MISSING,
  () => {
    it('lets each SSE event leave the function before the upstream sends the next', {
      timeout: 60_000,
    }, async () => {
      // Prepare: event i is sent only once event i-1 reached the Runtime API (or after the bound).
      let record: InvocationRecord | undefined;
      const held: number[] = [];
      fake.state.stream = {
        beforeChunk: async (i) => {
          if (!(await arrival(() => record, String(WORDS[i - 1])))) held.push(i - 1);
        },
      };
      const event = await chatEvent();

      // Act
      record = ric.api.invoke(event);
      await record.done;

      // Assess
      expect(record.streamed).toBe(true);
      expect(record.prelude).toMatchObject({ statusCode: 200 });
      expect(held).toEqual([]);
      for (const word of WORDS) expect(record.body()).toContain(word);
      expect(record.body().trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(record.error).toBeUndefined();
    });

    it('aborts the upstream before its next event when the caller leaves, bills what was sent, and serves on', {
      timeout: 60_000,
    }, async () => {
      // Prepare: after three events have arrived, the service drops the response; the fake then waits for the
      // proxy to close the upstream connection instead of sending the fourth.
      let record: InvocationRecord | undefined;
      fake.state.abortedAt = undefined;
      let sentAfterDrop = false;
      fake.state.stream = {
        beforeChunk: async (i) => {
          await arrival(() => record, String(WORDS[i - 1]));
          if (i < 3) return;
          if (i === 3 && record !== undefined) ric.api.dropClient(record);
          for (let t = 0; t < HOLD_BOUND_MS / 10 && fake.state.abortedAt === undefined; t++)
            await new Promise((r) => setTimeout(r, 10));
          if (fake.state.abortedAt === undefined) sentAfterDrop = true;
        },
      };
      const event = await chatEvent();
      const pollsBefore = ric.api.polls();

      // Act
      record = ric.api.invoke(event);
      await record.done;
      const requestId = String(
        (record.prelude?.headers as Record<string, string> | undefined)?.['x-request-id'],
      );
      const entry = await loggedEntry(requestId);
      fake.state.stream = {};
      const after = ric.api.invoke(await chatEvent());
      await after.done;

      // Assess: the upstream was closed while its fourth event was held; three were delivered and billed.
      expect(fake.state.abortedAt).toBeDefined();
      expect(sentAfterDrop).toBe(false);
      expect(entry).toMatchObject({ disconnected: true, outputTokens: 3, costMicros: 3000 });
      // The runtime survived the drop: it asked for another invocation and served it.
      expect(ric.exitCode()).toBeUndefined();
      expect(ric.api.polls()).toBeGreaterThan(pollsBefore);
      expect(after.prelude).toMatchObject({ statusCode: 200 });
    });
  },
);
