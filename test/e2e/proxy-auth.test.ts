/**
 * Anthropic and Gemini routes — the coding tools' hot path — have no API Gateway authorizer: the proxy checks
 * their key itself and keeps the checked context per instance for the authorizer cache's TTL (300 s here),
 * held to the key and team at admission. Through the local gateway: no authorizer invocation on those routes;
 * missing, bad, revoked and deleted keys still refused with the one 401 body; a scope change binds the next
 * request although the context is cached; a Gemini catalogue without a key is refused, not served.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { startDynamoSpy } from '../helpers/dynamo-spy.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-ant-upstream-proxy-auth-7a8b';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let openaiFake: Awaited<ReturnType<typeof startFakeOpenAI>>;
let spy: Awaited<ReturnType<typeof startDynamoSpy>>;
let gateway: RunningGateway;

async function messages(headers: Record<string, string>, model = 'anthropic/claude-haiku-4.5') {
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

/** The one 401 body, its per-request id set aside. */
function refusalBody(body: Record<string, unknown>): Record<string, unknown> {
  const { request_id: _id, ...rest } = body;
  return rest;
}

beforeAll(async () => {
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  spy = await startDynamoSpy(inject('dynamoEndpoint'));
  env = await setupLocalEnv(spy.endpoint);
  fake = await startFakeAnthropic(UPSTREAM_KEY);
  openaiFake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'anthropic', type: 'anthropic', baseUrl: fake.url },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: openaiFake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await openaiFake?.close();
  await spy?.close();
});

describe('routes whose key the proxy checks', () => {
  it('run no authorizer, and refuse every bad key with the one 401 body', async () => {
    // Prepare
    const good = await env.stores.keys.create({ name: 'tool' });
    const revoked = await env.stores.keys.create({ name: 'revoked' });
    const deleted = await env.stores.keys.create({ name: 'deleted' });
    const before = gateway.authorizer.invocations;

    // Act: the revoked and deleted keys are first served, so their context is in the proxy's cache.
    const served = [
      await messages({ 'x-api-key': good.plaintext }),
      await messages({ authorization: `Bearer ${good.plaintext}` }),
      await messages({ 'x-api-key': revoked.plaintext }),
      await messages({ 'x-api-key': deleted.plaintext }),
    ];
    await env.stores.keys.setStatus(revoked.key.keyId, 'disabled');
    await env.stores.keys.delete(deleted.key.keyId);
    const refused = [
      await messages({}),
      await messages({ 'x-api-key': 'sk-tg-not-a-key' }),
      await messages({ 'x-api-key': `${good.plaintext.slice(0, -4)}AAAA` }),
      await messages({ 'x-api-key': revoked.plaintext }),
      await messages({ 'x-api-key': deleted.plaintext }),
    ];
    const onAnthropicRoutes = gateway.authorizer.invocations - before;
    const openai = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-tg-not-a-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x', messages: [] }),
    });
    const openaiRefusal = (await openai.json()) as Record<string, unknown>;

    // Assess
    expect(served.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(onAnthropicRoutes).toBe(0);
    expect(gateway.authorizer.invocations - before).toBe(1);
    expect(refused.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    for (const answer of refused) expect(refusalBody(answer.body)).toEqual(refusalBody(openaiRefusal));
  });

  it('read no more from DynamoDB before answering than a cached OpenAI route does', async () => {
    // Prepare: one warm-up request on each route puts the key in each route's cache.
    const created = await env.stores.keys.create({ name: 'reads' });
    const chat = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.plaintext}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
      }).then((r) => r.text());
    const anthropic = () => messages({ 'x-api-key': created.plaintext });
    await chat();
    await anthropic();
    // Reads happen before the answer (authentication, admission, configuration); settlement only writes.
    const reads = () => spy.count('GetItem') + spy.count('BatchGetItem') + spy.count('Query');

    // Act
    const beforeOpenai = reads();
    await chat();
    const openaiReads = reads() - beforeOpenai;
    const beforeAnthropic = reads();
    await anthropic();
    const anthropicReads = reads() - beforeAnthropic;

    // Assess
    expect(openaiReads).toBeGreaterThan(0);
    expect(anthropicReads).toBe(openaiReads);
  });

  it('bind a change of scope on the next request, though the checked context is cached', async () => {
    // Prepare
    const created = await env.stores.keys.create({ name: 'narrowed', models: ['anthropic/*'] });
    const headers = { 'x-api-key': created.plaintext };
    const first = await messages(headers);

    // Act
    await env.stores.keys.edit(created.key.keyId, { models: ['anthropic/claude-opus-4.5'] });
    const narrowed = await messages(headers);
    const allowed = await messages(headers, 'anthropic/claude-opus-4.5');

    // Assess
    expect(first.status).toBe(200);
    expect(narrowed.status).toBe(403);
    expect(narrowed.body).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(allowed.status).toBe(200);
  });

  it("refuse a Gemini catalogue request without a key instead of serving everyone's catalogue", async () => {
    // Prepare
    const created = await env.stores.keys.create({ name: 'gemini-reader' });

    // Act
    const anonymous = await fetch(`${gateway.url}/v1beta/models`);
    const keyed = await fetch(`${gateway.url}/v1beta/models`, {
      headers: { 'x-goog-api-key': created.plaintext },
    });

    // Assess
    expect(anonymous.status).toBe(401);
    expect(keyed.status).toBe(200);
  });
});
