/**
 * The official OpenAI SDK (7.x, from test/clients/package.json), configured as the README's Clients
 * section says — `baseURL` = gateway + `/v1`, the key as `apiKey` (sent as Bearer) — against the local
 * gateway and the wire-faithful OpenAI fake.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let client: OpenAI;

const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${h.gateway.url}/v1`, maxRetries: 0 });

beforeAll(async () => {
  h = await startHarness();
  client = sdk(h.key);
});

afterAll(async () => {
  await h?.close();
});

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('OpenAI SDK through the gateway', () => {
  it('completes a chat, whole and streamed', async () => {
    // Act
    const whole = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';

    // Assess
    expect(whole.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(whole.usage?.total_tokens).toBe(13);
    expect(streamed).toBe('Hello from the fake upstream.');
  });

  it('round-trips a function call in chat completions, streamed and not', async () => {
    // Prepare
    h.fakes.openai.state.tool = { name: 'get_weather', args: { city: 'Paris' } };
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];

    // Act
    const first = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages,
      tools: [weather],
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    const streamedCall = await client.chat.completions
      .stream({ model: 'openai/gpt-4o', messages, tools: [weather] })
      .finalChatCompletion();
    const answer = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      tools: [weather],
      messages: [
        ...messages,
        { role: 'assistant', tool_calls: call === undefined ? [] : [call] },
        { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny, 21 °C' },
      ],
    });
    h.fakes.openai.state.tool = undefined;

    // Assess
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual({
      city: 'Paris',
    });
    const streamed = streamedCall.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.type === 'function' ? streamed.function.name : undefined).toBe('get_weather');
    expect(answer.choices[0]?.message.content).toBe('The tool said: sunny, 21 °C');
  });

  it('speaks the Responses API, whole and streamed, with a function call round trip', async () => {
    // Act
    const whole = await client.responses.create({ model: 'openai/gpt-4o', input: 'Hello' });
    const stream = await client.responses.create({ model: 'openai/gpt-4o', input: 'Hello', stream: true });
    let streamed = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') streamed += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    h.fakes.openai.state.tool = { name: 'get_weather', args: { city: 'Oslo' } };
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'get_weather', parameters: weather.function.parameters, strict: false },
    ];
    const asked = await client.responses.create({ model: 'openai/gpt-4o', input: 'Weather in Oslo?', tools });
    const call = asked.output.find((item) => item.type === 'function_call');
    const answered = await client.responses.create({
      model: 'openai/gpt-4o',
      tools,
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        ...(call === undefined ? [] : [call]),
        { type: 'function_call_output', call_id: call?.call_id ?? '', output: 'snow' },
      ],
    });
    h.fakes.openai.state.tool = undefined;

    // Assess
    expect(whole.output_text).toBe('Hello from the fake upstream.');
    expect(streamed).toBe('Hello from the fake upstream.');
    expect(completed?.usage?.output_tokens).toBe(6);
    expect(call?.name).toBe('get_weather');
    expect(JSON.parse(call?.arguments ?? '{}')).toEqual({ city: 'Oslo' });
    expect(answered.output_text).toBe('The tool said: snow');
  });

  it('embeds, and lists and retrieves models with the API each one speaks', async () => {
    // Act
    const embedding = await client.embeddings.create({
      model: 'openai/text-embedding-3-small',
      input: ['one', 'two'],
    });
    const list = await client.models.list();
    const one = await client.models.retrieve('anthropic/claude-sonnet-4.6');

    // Assess
    expect(embedding.data.map((d) => d.index)).toEqual([0, 1]);
    expect(embedding.data[0]?.embedding).toHaveLength(3);
    const apis = Object.fromEntries(list.data.map((m) => [m.id, (m as unknown as { api: string }).api]));
    expect(apis['openai/gpt-4o']).toBe('openai');
    expect(apis['anthropic/claude-haiku-4.5']).toBe('anthropic');
    expect(apis['gemini/gemini-2.5-flash']).toBe('gemini');
    expect(one).toMatchObject({ id: 'anthropic/claude-sonnet-4.6', object: 'model', owned_by: 'anthropic' });
  });

  it('raises its native error classes on 401, 403, 404 and 429', async () => {
    // Prepare
    const ask = (c: OpenAI, model = 'openai/gpt-4o') =>
      c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
    const limited = sdk(await h.oneRequestKey());
    await ask(limited);

    // Act + Assess
    await expect(ask(sdk('sk-tg-not-a-key'))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(ask(sdk(await h.scopedKey(['anthropic/*'])))).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
    await expect(ask(client, 'nosuch/model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.models.retrieve('openai/nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(ask(limited)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});
