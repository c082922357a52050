/**
 * The official Anthropic SDK (from test/clients/package.json), configured as the README's Clients section
 * says — `baseURL` = the gateway (no `/v1`), the key as `apiKey` (sent as `x-api-key`) — against the
 * local gateway and the wire-faithful Anthropic fake.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let client: Anthropic;

const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: h.gateway.url, maxRetries: 0 });

beforeAll(async () => {
  h = await startHarness();
  client = sdk(h.key);
});

afterAll(async () => {
  await h?.close();
});

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic SDK through the gateway', () => {
  it('creates a message, whole and streamed, by slug and by bare id', async () => {
    // Act
    const whole = await client.messages.create({
      model: 'anthropic/claude-sonnet-4.6',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const stream = client.messages.stream({
      model: 'claude-haiku-4.5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    let streamed = '';
    stream.on('text', (text) => {
      streamed += text;
    });
    const final = await stream.finalMessage();

    // Assess
    expect(whole.content[0]?.type === 'text' ? whole.content[0].text : '').toBe(
      'Hello from the fake upstream.',
    );
    expect(whole.usage.input_tokens).toBe(12);
    expect(streamed).toBe('Hello from the fake upstream.');
    expect(final.usage.output_tokens).toBe(6);
  });

  it('round-trips a tool call, streamed and not', async () => {
    // Prepare
    h.fakes.anthropic.state.tool = { name: 'get_weather', args: { city: 'Rome' } };
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Rome?' }];
    const ask = { model: 'anthropic/claude-sonnet-4.6', max_tokens: 256, tools: [weather] };

    // Act
    const first = await client.messages.create({ ...ask, messages });
    const streamed = await client.messages.stream({ ...ask, messages }).finalMessage();
    const use = first.content.find((b) => b.type === 'tool_use');
    const answer = await client.messages.create({
      ...ask,
      messages: [
        ...messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use?.id ?? '', content: 'rain' }] },
      ],
    });
    h.fakes.anthropic.state.tool = undefined;

    // Assess
    expect(first.stop_reason).toBe('tool_use');
    expect(use?.input).toEqual({ city: 'Rome' });
    expect(streamed.content.find((b) => b.type === 'tool_use')?.input).toEqual({ city: 'Rome' });
    expect(answer.content[0]?.type === 'text' ? answer.content[0].text : '').toBe('The tool said: rain');
  });

  it('counts tokens, and lists and retrieves only Anthropic-API models in its own shape', async () => {
    // Act
    const counted = await client.messages.countTokens({
      model: 'anthropic/claude-sonnet-4.6',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    const one = await client.models.retrieve('claude-opus-4.5');

    // Assess
    expect(counted.input_tokens).toBe(12);
    expect(ids).toEqual([
      'anthropic/claude-haiku-4.5',
      'anthropic/claude-sonnet-4.6',
      'anthropic/claude-opus-4.5',
    ]);
    expect(one).toMatchObject({ type: 'model', id: 'anthropic/claude-opus-4.5' });
  });

  it('raises its native error classes on 401, 403, 404 and 429', async () => {
    // Prepare
    const ask = (c: Anthropic, model = 'anthropic/claude-sonnet-4.6') =>
      c.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] });
    const limited = sdk(await h.oneRequestKey());
    await ask(limited);

    // Act + Assess
    await expect(ask(sdk('sk-tg-not-a-key'))).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(ask(sdk(await h.scopedKey(['openai/*'])))).rejects.toBeInstanceOf(
      Anthropic.PermissionDeniedError,
    );
    await expect(ask(client, 'nosuch/model')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client.models.retrieve('openai/gpt-4o')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(ask(limited)).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });
});
