/**
 * Configuration freshness through the local gateway with the default 300 s credential cache: a provider,
 * a price and a limited key made after the gateway has cached an empty configuration take effect on the
 * very next request (locally the configuration version is compared before every use).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { FakeUpstream } from '../fakes/upstream-base.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const OPENAI_KEY = 'sk-upstream-freshness-81c2';
const ANTHROPIC_KEY = 'sk-ant-upstream-freshness-4d07';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let openai: FakeOpenAI;
let anthropic: FakeUpstream;

const post = (path: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  delete process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS;
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  openai = await startFakeOpenAI(OPENAI_KEY);
  anthropic = await startFakeAnthropic(ANTHROPIC_KEY);
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 60 });
});

afterAll(async () => {
  await gateway?.close();
  await openai?.close();
  await anthropic?.close();
});

describe('configuration changes after start', () => {
  it('price set after start: a key limited to $0.01 is refused once its budget is reserved (200 concurrent)', {
    timeout: 120_000,
  }, async () => {
    // Prepare: the gateway has cached an empty configuration.
    const warm = await env.stores.keys.create({ name: 'warm' });
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(200);
    const before = await post(
      '/v1/chat/completions',
      { authorization: `Bearer ${warm.plaintext}` },
      { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] },
    );
    expect(before.status).toBe(404);
    await env.stores.providers.add(
      { name: 'openai', type: 'openai', baseUrl: openai.baseUrl, models: ['gpt-4o'] },
      { secret: OPENAI_KEY },
    );
    // 10 USD per million tokens: each request reserves about 1,100 µUSD of a 10,000 µUSD limit.
    await env.stores.providers.setPrice('openai', 'gpt-4o', { inputPerMTok: 10, outputPerMTok: 10 });
    const limited = await env.stores.keys.create({ name: 'one-cent', monthlyLimitMicros: 10_000 });

    // Act
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        post(
          '/v1/chat/completions',
          { authorization: `Bearer ${limited.plaintext}` },
          { model: 'openai/gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] },
        ).then(async (r) => {
          await r.text();
          return r.status;
        }),
      ),
    );

    // Assess
    const admitted = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 402).length;
    expect(admitted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(admitted + refused).toBe(200);
    const spend = await env.stores.meter.monthSpend(`key#${limited.key.keyId}`, new Date());
    expect(spend.spentMicros).toBeGreaterThan(0);
    expect(spend.spentMicros).toBeLessThanOrEqual(10_000);
  });

  it('a provider added after start serves bare model ids and is listed by /v1/models at once', async () => {
    // Prepare: the gateway has cached a configuration without an Anthropic provider.
    const { plaintext } = await env.stores.keys.create({ name: 'bare' });
    const ask = () =>
      post(
        '/v1/messages',
        { 'x-api-key': plaintext },
        { model: 'claude-fresh-1', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] },
      );
    const listed = async () =>
      ((await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map(
        (m) => m.id,
      );
    expect((await ask()).status).toBe(404);
    expect(await listed()).not.toContain('anthropic/claude-fresh-1');

    // Act
    await env.stores.providers.add(
      { name: 'anthropic', type: 'anthropic', baseUrl: anthropic.url, models: ['claude-fresh-1'] },
      { secret: ANTHROPIC_KEY },
    );
    const models = await listed();
    const answer = await ask();

    // Assess
    expect(models).toContain('anthropic/claude-fresh-1');
    expect(answer.status).toBe(200);
    expect(anthropic.requests.at(-1)?.body).toContain('claude-fresh-1');
  });

  it('a model catalogue refreshed after start is listed by /v1/models on the next request', async () => {
    // Prepare: the gateway has cached the provider with its first catalogue.
    await env.stores.providers.add(
      { name: 'refreshed', type: 'openai', baseUrl: openai.baseUrl, models: ['gpt-4o'] },
      { secret: OPENAI_KEY },
    );
    const listed = async () =>
      ((await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map(
        (m) => m.id,
      );
    expect(await listed()).toContain('refreshed/gpt-4o');

    // Act
    await env.stores.providers.setModels('refreshed', ['gpt-4o', 'gpt-new']);
    const models = await listed();

    // Assess
    expect(models).toContain('refreshed/gpt-new');
  });

  it('an alias set after start resolves on the next request', async () => {
    // Prepare
    const { plaintext } = await env.stores.keys.create({ name: 'alias' });
    const ask = () =>
      post(
        '/v1/chat/completions',
        { authorization: `Bearer ${plaintext}` },
        { model: 'fresh-alias', messages: [{ role: 'user', content: 'Hi' }] },
      );
    expect((await ask()).status).toBe(404);

    // Act
    await env.stores.providers.setAlias('fresh-alias', ['openai/gpt-4o']);
    const answer = await ask();

    // Assess
    expect(answer.status).toBe(200);
  });
});
