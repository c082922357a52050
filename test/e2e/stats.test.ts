/**
 * Public provider statistics and opt-in analytics through the local gateway on DynamoDB Local: counts of
 * requests, rate-limit events and upstream errors, and TTFB p50, by provider, with no key or secret in
 * them; and the analytics route, which exists only when the operator turns it on.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '#shared/env.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const A = 'sk-stats-upstream-a';
const B = 'sk-stats-upstream-b';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let upstream: Awaited<ReturnType<typeof startFakeOpenAI>>;
let clientKey: string;

const chat = (model: string) =>
  new OpenAI({ apiKey: clientKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
    .create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    .catch((err: unknown) => err);

beforeAll(async () => {
  process.env.TOLLGATE_PUBLIC_ANALYTICS = 'on';
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  upstream = await startFakeOpenAI(A, B);
  await env.stores.providers.add(
    { name: 'busy', type: 'openai', baseUrl: upstream.baseUrl, models: ['gpt-4o'] },
    { secret: A },
  );
  await env.stores.providers.addCredential('busy', { secret: B });
  await env.stores.providers.add(
    { name: 'idle', type: 'openai', baseUrl: upstream.baseUrl, models: ['gpt-4o'] },
    { secret: A },
  );
  clientKey = (await env.stores.keys.create({ name: 'stats' })).plaintext;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
});

afterAll(async () => {
  delete process.env.TOLLGATE_PUBLIC_ANALYTICS;
  await gateway?.close();
  await upstream?.close();
});

describe('GET /v1/stats/providers', () => {
  it('counts requests, rate-limit events and upstream errors per provider, with a TTFB p50 and no secrets', async () => {
    // Prepare: 3 answered, 1 rescued from a rate limit by the second credential, 1 upstream 500.
    await chat('busy/gpt-4o');
    await chat('busy/gpt-4o');
    upstream.state.rateLimited.add(A);
    await chat('busy/gpt-4o');
    upstream.state.rateLimited.clear();
    upstream.state.failing.set(A, {
      status: 500,
      body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
    });
    upstream.state.failing.set(B, {
      status: 500,
      body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
    });
    await chat('busy/gpt-4o');
    upstream.state.failing.clear();

    // Act
    const response = await fetch(`${gateway.url}/v1/stats/providers`);
    const text = await response.text();
    const body = JSON.parse(text) as {
      data: Array<{
        provider: string;
        lastHour: Record<string, unknown>;
        lastDay: Record<string, unknown>;
      }>;
    };

    // Assess
    expect(response.status).toBe(200);
    const busy = body.data.find((p) => p.provider === 'busy');
    const expected = {
      requests: 4,
      rateLimited: 1,
      errors: 1,
      errorRate: 0.25,
      ttfbP50Ms: expect.any(Number),
    };
    expect(busy?.lastHour).toEqual(expected);
    expect(busy?.lastDay).toEqual(expected);
    expect(body.data.find((p) => p.provider === 'idle')?.lastDay).toEqual({
      requests: 0,
      rateLimited: 0,
      errors: 0,
      errorRate: 0,
      ttfbP50Ms: null,
    });
    expect(text).not.toContain(A);
    expect(text).not.toContain(B);
    expect(text).not.toMatch(/sk-tg-|key_?id/i);
  });
});

describe('GET /v1/analytics', () => {
  it('answers the aggregate use when the operator turned it on', async () => {
    // Act
    const response = await fetch(`${gateway.url}/v1/analytics`);
    const body = (await response.json()) as Record<string, unknown>;

    // Assess
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      lastDay: { requests: 4, rateLimited: 1, errors: 1 },
      providers: 2,
      byProvider: expect.arrayContaining([{ provider: 'busy', lastDayRequests: 4 }]),
    });
  });

  it('is off unless the operator turns it on (the route itself: analytics-off.test.ts)', () => {
    expect(readEnv({}).publicAnalytics).toBe(false);
    expect(readEnv({ TOLLGATE_PUBLIC_ANALYTICS: 'on' }).publicAnalytics).toBe(true);
  });
});
