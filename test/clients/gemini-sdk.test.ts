/**
 * Google's own Gemini SDK (`@google/genai`, from test/clients/package.json), configured as the README's
 * Clients section says — `httpOptions.baseUrl` = the gateway, the key as `apiKey` (sent as
 * `x-goog-api-key`) — on its default API version (`v1`) and on `v1beta`, against the local gateway and the
 * wire-faithful Gemini fake.
 */
import { ApiError, type FunctionDeclaration, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

const sdk = (apiKey: string, apiVersion?: string) =>
  new GoogleGenAI({
    apiKey,
    httpOptions: { baseUrl: h.gateway.url, ...(apiVersion === undefined ? {} : { apiVersion }) },
  });

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

const weather: FunctionDeclaration = {
  name: 'get_weather',
  description: 'The weather in a city',
  parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe.each([
  ['v1 (the SDK default)', undefined],
  ['v1beta', 'v1beta'],
])('Gemini SDK through the gateway on %s', (_name, apiVersion) => {
  it('generates, whole and streamed, and counts tokens', async () => {
    // Prepare
    const client = sdk(h.key, apiVersion);

    // Act
    const whole = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
    let streamed = '';
    for await (const chunk of await client.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'Hello',
    })) {
      streamed += chunk.text ?? '';
    }
    const counted = await client.models.countTokens({ model: 'gemini-2.5-flash', contents: 'Hello' });

    // Assess
    expect(whole.text).toBe('Hello from the fake upstream.');
    expect(whole.usageMetadata?.candidatesTokenCount).toBe(6);
    expect(streamed).toBe('Hello from the fake upstream.');
    expect(counted.totalTokens).toBe(9);
  });

  it('round-trips a function call', async () => {
    // Prepare
    const client = sdk(h.key, apiVersion);
    h.fakes.gemini.state.tool = { name: 'get_weather', args: { city: 'Lima' } };
    const config = { tools: [{ functionDeclarations: [weather] }] };

    // Act
    const first = await client.models.generateContent({
      model: 'gemini-2.5-pro',
      contents: 'Weather?',
      config,
    });
    const call = first.functionCalls?.[0];
    const answer = await client.models.generateContent({
      model: 'gemini-2.5-pro',
      config,
      contents: [
        { role: 'user', parts: [{ text: 'Weather?' }] },
        { role: 'model', parts: [{ functionCall: call ?? {} }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'fog' } } }] },
      ],
    });
    h.fakes.gemini.state.tool = undefined;

    // Assess
    expect(call?.name).toBe('get_weather');
    expect(call?.args).toEqual({ city: 'Lima' });
    expect(answer.text).toBe('The tool said: {"output":"fog"}');
  });

  it('lists and gets only Gemini-API models', async () => {
    // Prepare
    const client = sdk(h.key, apiVersion);

    // Act
    const names: string[] = [];
    for await (const model of await client.models.list()) names.push(model.name ?? '');
    const one = await client.models.get({ model: 'gemini-2.5-pro' });

    // Assess
    expect(names).toEqual(['models/gemini/gemini-2.5-flash', 'models/gemini/gemini-2.5-pro']);
    expect(one.name).toBe('models/gemini/gemini-2.5-pro');
  });

  it('raises ApiError with the status on 401, 403, 404 and 429', async () => {
    // Prepare
    const status = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (err: unknown) => (err instanceof ApiError ? err.status : err),
      );
    const ask = (client: GoogleGenAI, model = 'gemini-2.5-flash') =>
      client.models.generateContent({ model, contents: 'Hi' });
    const limited = sdk(await h.oneRequestKey(), apiVersion);
    await ask(limited);

    // Act + Assess
    expect(await status(ask(sdk('sk-tg-not-a-key', apiVersion)))).toBe(401);
    expect(await status(ask(sdk(await h.scopedKey(['openai/*']), apiVersion)))).toBe(403);
    expect(await status(ask(sdk(h.key, apiVersion), 'nosuch/model'))).toBe(404);
    expect(await status(ask(limited))).toBe(429);
  });
});
