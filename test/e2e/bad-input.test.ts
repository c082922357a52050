/**
 * The bad inputs issue 10 found reaching a 5xx, one by one, through the local gateway: each is a 400 in the
 * route's own error shape, touches no provider's health, and a refused admin write leaves nothing behind.
 * (The seeded fuzz suite, `fuzz.test.ts`, looks for the ones nobody listed.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const ADMIN_TOKEN = 'b'.repeat(64);
const UPSTREAM_KEY = 'sk-upstream-bad-input-2f1e';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let fake: FakeOpenAI;
let key: string;

async function send(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const admin = (method: string, path: string, body?: unknown) =>
  send(`/admin${path}`, {
    method,
    headers: { 'x-tollgate-admin-token': ADMIN_TOKEN },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

beforeAll(async () => {
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.add(
    { name: 'gemini', type: 'gemini', baseUrl: 'http://127.0.0.1:9', models: ['gemini-x'] },
    { secret: 'gemini-upstream-key' },
  );
  key = (await env.stores.keys.create({ name: 'bad-input' })).plaintext;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 60, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
});

describe('bad input on client routes', () => {
  it('answers malformed %-encoding in the Gemini model path with a Gemini-shaped 400', async () => {
    const answer = await send('/v1beta/models/gemini-%zz:generateContent', {
      method: 'POST',
      headers: { 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'Hi' }] }] }),
    });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT' } } });
  });

  it('answers a body nested 10,000 deep with a 400, and leaves the provider healthy', async () => {
    // Prepare
    const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

    // Act
    const answer = await send('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"Hi"}],"metadata":${nested}}`,
    });
    const health = await send('/health');

    // Assess
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(fake.requests).toHaveLength(0);
    const openai = (health.body.providers as Array<{ name: string; lastError: unknown }>).find(
      (p) => p.name === 'openai',
    );
    expect(openai?.lastError).toBeNull();
  });

  it('answers an empty or over-long request_id with a 400', async () => {
    for (const id of ['', 'r'.repeat(2_100)]) {
      const answer = await send(`/v1/usage?request_id=${id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    }
  });

  it('answers an over-long model id with a 400', async () => {
    const answer = await send('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: `openai/${'m'.repeat(5_000)}`,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});

describe('bad input on the management API', () => {
  it('answers malformed %-encoding and ids over 1,000 characters with a 400', async () => {
    expect(await admin('GET', '/keys/%zz')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
    expect(await admin('POST', `/keys/${'k'.repeat(1_500)}/disable`, {})).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
  });

  it('answers a 500 KB key name and a limit of 1e300 USD with a 400 naming the field', async () => {
    const name = await admin('POST', '/keys', { name: 'n'.repeat(500_000) });
    const limit = await admin('POST', '/keys', { name: 'huge-limit', monthlyLimitUsd: 1e300 });
    expect(name).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(limit).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(JSON.stringify(limit.body)).toMatch(/limit/i);
    expect((await env.stores.keys.list()).map((k) => k.name)).not.toContain('huge-limit');
  });

  it('leaves nothing behind when a provider is added without a usable credential', async () => {
    // Act
    const missing = await admin('POST', '/providers', {
      name: 'halfway',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      credential: {},
    });
    const malformed = await admin('POST', '/providers', {
      name: 'halfway',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      credential: { secretArn: 'arn:aws:s3:::not-a-secret' },
    });

    // Assess
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await env.stores.providers.get('halfway')).toBeUndefined();
  });
});
