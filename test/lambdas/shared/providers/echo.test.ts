/**
 * The built-in echo provider through the local gateway, with the official SDKs as clients: OpenAI chat
 * completions and responses, Anthropic messages and Gemini generateContent, whole and streamed, each
 * answer parsed by the SDK and settled at the model's price in the request log.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../../../lib/local/gateway.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let key: string;
const SLUG = 'echo/echo-1';
/** An instruction: four events of 6 bytes, 20 ms apart, with chosen usage. */
const SHAPED = JSON.stringify({
  echo: { events: 4, gapMs: 20, eventBytes: 6, inputTokens: 11, outputTokens: 7 },
});

beforeAll(async () => {
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
  await env.stores.providers.add(
    { name: 'echo', type: 'echo', baseUrl: 'http://echo.invalid', models: ['echo-1'] },
    undefined,
  );
  await env.stores.providers.setPrice('echo', 'echo-1', { inputPerMTok: 1, outputPerMTok: 2 });
  // Gemini's SDK puts the model in the path, where a slug's slash does not belong: an alias stands in.
  await env.stores.providers.setAlias('echo-alias', [SLUG]);
  key = (await env.stores.keys.create({ name: 'echo-sdks' })).plaintext;
  const { startGateway } = await import('../../../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
});

afterAll(async () => {
  await gateway?.close();
});

/** The request-log entry of a request, once settled. */
async function logged(requestId: string | null | undefined) {
  for (let i = 0; i < 200; i++) {
    const entry = await env.stores.requestLog.get(requestId ?? '');
    if (entry !== undefined) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`request ${requestId} never reached the request log`);
}

const openai = () => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: key, baseURL: gateway.url, maxRetries: 0 });
const gemini = () =>
  new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gateway.url, apiVersion: 'v1beta' } });

describe('echo provider, OpenAI SDK', () => {
  it('echoes the last user message as a chat completion, settled at the model price', async () => {
    // Act
    const { data, response } = await openai()
      .chat.completions.create({ model: SLUG, messages: [{ role: 'user', content: 'ping pong ball' }] })
      .withResponse();

    // Assess
    expect(data.choices[0]?.message.content).toBe('ping pong ball');
    expect(data.usage?.completion_tokens).toBe(3);
    const entry = await logged(response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ status: 200, model: SLUG, outputTokens: 3 });
    expect(entry.costMicros).toBe(entry.inputTokens * 1 + 3 * 2);
  });

  it('streams the chosen number of chunks of the chosen size, and hides the usage chunk it was not asked for', async () => {
    const stream = await openai().chat.completions.create({
      model: SLUG,
      messages: [{ role: 'user', content: SHAPED }],
      stream: true,
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const contents = chunks
      .map((c) => c.choices[0]?.delta.content)
      .filter((c) => c !== undefined && c !== '');
    expect(contents).toEqual(['echo e', 'echo e', 'echo e', 'echo e']);
    expect(chunks.some((c) => c.usage !== undefined && c.usage !== null)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers the Responses API whole and streamed', async () => {
    const whole = await openai().responses.create({ model: SLUG, input: 'one two' });
    expect(whole.output_text).toBe('one two');
    expect(whole.usage?.output_tokens).toBe(2);
    const stream = await openai().responses.create({ model: SLUG, input: SHAPED, stream: true });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(4);
    expect(types[0]).toBe('response.created');
    expect(completed?.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });
  });
});

describe('echo provider, Anthropic SDK', () => {
  it('answers a message whole', async () => {
    const message = await anthropic().messages.create({
      model: SLUG,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'hello there' }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('streams a message the SDK assembles, with the chosen usage settled', async () => {
    const stream = anthropic().messages.stream({
      model: SLUG,
      max_tokens: 64,
      messages: [{ role: 'user', content: SHAPED }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'echo eecho eecho eecho e' }]);
    expect(final.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });
    const entry = await logged((await stream.withResponse()).response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ inputTokens: 11, outputTokens: 7, costMicros: 11 + 14 });
  });
});

describe('echo provider, Google Gen AI SDK', () => {
  it('answers generateContent whole and streamed', async () => {
    const whole = await gemini().models.generateContent({ model: 'echo-alias', contents: 'a b c' });
    expect(whole.text).toBe('a b c');
    expect(whole.usageMetadata?.candidatesTokenCount).toBe(3);
    const texts: string[] = [];
    let usage: number | undefined;
    for await (const chunk of await gemini().models.generateContentStream({
      model: 'echo-alias',
      contents: SHAPED,
    })) {
      texts.push(chunk.text ?? '');
      usage = chunk.usageMetadata?.candidatesTokenCount ?? usage;
    }
    expect(texts).toEqual(['echo e', 'echo e', 'echo e', 'echo e']);
    expect(usage).toBe(7);
  });
});

describe('echo provider, bounds', () => {
  it('clamps the figures a request chooses', async () => {
    const { echoScript } = await import('#shared/providers/echo-script.ts');
    const script = echoScript({
      messages: [
        { role: 'user', content: JSON.stringify({ echo: { events: 1e9, gapMs: -5, eventBytes: 1e9 } }) },
      ],
    });
    expect(script.pieces).toHaveLength(1000);
    expect(script.gapMs).toBe(0);
    expect(script.pieces[0]).toHaveLength(65_536);
    const slow = echoScript({
      messages: [{ role: 'user', content: JSON.stringify({ echo: { events: 1000, gapMs: 60_000 } }) }],
    });
    expect(slow.gapMs * (slow.pieces.length - 1)).toBeLessThanOrEqual(300_000);
  });
});
