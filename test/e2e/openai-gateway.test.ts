/**
 * End to end through the local gateway: the real authorizer and proxy handlers, DynamoDB Local, a fake
 * OpenAI upstream on 127.0.0.1, and the `openai` SDK as the client. The authorizer cache is on (300 s),
 * so revocation is proven against a cached Allow.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issueKey } from '#shared/keys.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { startDynamoSpy } from '../helpers/dynamo-spy.ts';
import { deferred } from '../helpers/http.ts';
import { setupLocalEnv } from '../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-test-9f8e7d6c5b4a';
let spy: Awaited<ReturnType<typeof startDynamoSpy>>;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let gateway: RunningGateway;
const issued: string[] = [];

async function newKey(name: string): Promise<{ id: string; key: string }> {
  const created = await env.stores.keys.create({ name });
  issued.push(created.plaintext);
  return { id: created.key.keyId, key: created.plaintext };
}

function client(apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
}

const ask = (openai: OpenAI) =>
  openai.chat.completions.create({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
  });

beforeAll(async () => {
  spy = await startDynamoSpy(inject('dynamoEndpoint'));
  env = await setupLocalEnv(spy.endpoint);
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl },
    { secret: UPSTREAM_KEY },
  );
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await spy?.close();
});

describe('chat completions through the local gateway', () => {
  it('answers a non-streaming completion and forwards the provider credential, never the client key', async () => {
    // Prepare
    const { key } = await newKey('plain');
    fake.reset();

    // Act
    const { data, response } = await ask(client(key)).withResponse();

    // Assess
    expect(data.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(data.usage?.total_tokens).toBe(13);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests).toHaveLength(1);
    const upstream = fake.requests[0];
    expect(upstream?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.parse(upstream?.body ?? '{}').model).toBe('gpt-4o-mini');
    expect(JSON.stringify(upstream)).not.toContain(key);
  });

  it('streams a completion event by event', async () => {
    // Prepare
    const { key } = await newKey('stream');
    fake.reset();

    // Act
    const stream = await client(key).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');

    // Assess
    expect(deltas.join('')).toBe('Hello from the fake upstream.');
    expect(deltas.filter((d) => d !== '')).toEqual(['Hello', ' from', ' the', ' fake', ' upstream', '.']);
    expect(JSON.stringify(fake.requests[0]?.headers)).not.toContain(key);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it('delivers the first chunk before the upstream has sent its last one', async () => {
    // Prepare: the fake holds its final chunk until the client has seen the first one.
    const { key } = await newKey('ttfb');
    fake.reset();
    const gate = deferred();
    fake.state.stream = { gate: gate.promise, gateTimeoutMs: 5000 };
    let lastSentBeforeFirstReceived: boolean | undefined;

    // Act
    const stream = await client(key).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content ?? '';
      if (delta !== '' && lastSentBeforeFirstReceived === undefined) {
        lastSentBeforeFirstReceived = fake.state.lastChunkSentAt !== undefined;
        gate.resolve();
      }
      text += delta;
    }

    // Assess
    expect(lastSentBeforeFirstReceived).toBe(false);
    expect(text).toBe('Hello from the fake upstream.');
  });

  it('passes the upstream 4xx through and maps its 5xx to 502 in OpenAI shape', async () => {
    // Prepare
    const { key } = await newKey('upstream-errors');
    fake.reset();
    fake.failNext({
      status: 400,
      body: {
        error: {
          message: 'bad temperature',
          type: 'invalid_request_error',
          param: 'temperature',
          code: null,
        },
      },
    });
    fake.failNext({
      status: 500,
      body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
    });

    // Act
    const first = await ask(client(key)).catch((err: unknown) => err);
    const second = await ask(client(key)).catch((err: unknown) => err);

    // Assess
    expect(first).toBeInstanceOf(OpenAI.BadRequestError);
    expect((first as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('bad temperature');
    expect(second).toBeInstanceOf(OpenAI.InternalServerError);
    expect((second as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(502);
    expect((second as InstanceType<typeof OpenAI.InternalServerError>).code).toBe('upstream_error');
  });

  it('refuses bad requests with 400, unknown providers with 404, in OpenAI shape', async () => {
    // Prepare
    const { key } = await newKey('bad-requests');

    // Act
    const noMessages = await client(key)
      .chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [] })
      .catch((err: unknown) => err);
    const unknownProvider = await client(key)
      .chat.completions.create({ model: 'nobody/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((err: unknown) => err);
    const badJson = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{not json',
    });

    // Assess
    expect(noMessages).toBeInstanceOf(OpenAI.BadRequestError);
    expect((noMessages as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
    expect(unknownProvider).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknownProvider as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({
      error: { code: 'invalid_request', type: 'invalid_request_error' },
    });
  });
  it('refuses a model outside the key scope with 403 and an oversized body with 413', async () => {
    // Prepare
    const scoped = await env.stores.keys.create({ name: 'scoped', models: ['openai/gpt-4o'] });
    issued.push(scoped.plaintext);

    // Act
    const outside = await client(scoped.plaintext)
      .chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((err: unknown) => err);
    const inside = await client(scoped.plaintext).chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const huge = await client(scoped.plaintext)
      .chat.completions.create({
        model: 'openai/gpt-4o',
        messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 1) }],
      })
      .catch((err: unknown) => err);

    // Assess
    expect(outside).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((outside as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed');
    expect(inside.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect((huge as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((huge as InstanceType<typeof OpenAI.APIError>).code).toBe('request_too_large');
  });
});

describe('key refusals', () => {
  async function expect401(apiKey: string): Promise<void> {
    const err = await ask(client(apiKey)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  }

  it('refuses a request without a key', async () => {
    // Act
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('refuses malformed keys without a single database read', async () => {
    // Prepare
    const { key } = await newKey('checksum');
    const lastChar = key.at(-1) === 'A' ? 'B' : 'A';
    const malformed = [
      'sk-tg-garbage',
      'not-a-key',
      `${key.slice(0, -1)}${lastChar}`,
      `${key}x`,
      key.replace('sk-tg-', 'sk-xx-'),
    ];
    // Foreign-format strings may be imported keys: they consult the imported-key index, which each
    // instance reads at most once a minute. Warm it, so what follows measures the steady state.
    await expect401('warm-the-imported-key-index');
    const before = spy.total();

    // Act + Assess
    for (const candidate of malformed) await expect401(candidate);
    expect(spy.total()).toBe(before);
  });

  it('refuses a well-formed key that was never issued', async () => {
    await expect401(issueKey('sk-tg-').plaintext);
  });

  it('refuses a disabled key on the very next request although its Allow is cached', async () => {
    // Prepare
    const { id, key } = await newKey('to-disable');
    await ask(client(key));
    const invocations = gateway.authorizer.invocations;

    // Act
    await env.stores.keys.setStatus(id, 'disabled');

    // Assess
    await expect401(key);
    expect(gateway.authorizer.invocations).toBe(invocations);
  });

  it('refuses the old secret of a rotated key at once and accepts the new one', async () => {
    // Prepare
    const { id, key } = await newKey('to-rotate');
    await ask(client(key));

    // Act
    const rotated = await env.stores.keys.rotate(id);
    issued.push(rotated.plaintext);

    // Assess
    await expect401(key);
    const answer = await ask(client(rotated.plaintext));
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(rotated.key.keyId).toBe(id);
  });

  it('refuses a deleted key', async () => {
    // Prepare
    const { id, key } = await newKey('to-delete');
    await ask(client(key));

    // Act
    await env.stores.keys.delete(id);

    // Assess
    await expect401(key);
  });
});

describe('secrets at rest', () => {
  it('stores no client key and no upstream credential in plaintext', async () => {
    // Act
    const dump = await env.dumpTables();

    // Assess
    expect(issued.length).toBeGreaterThan(5);
    for (const key of issued) expect(dump).not.toContain(key);
    expect(dump).not.toContain(UPSTREAM_KEY);
    expect(dump).not.toContain(Buffer.from(UPSTREAM_KEY).toString('base64'));
  });
});
