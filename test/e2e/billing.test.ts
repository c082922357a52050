/**
 * Billing end to end through the local gateway on DynamoDB Local: a limited key or team cannot use a model
 * without a price (unless the operator set a default price), and a stream that breaks off is billed for
 * what was delivered, on each of the three APIs.
 */

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { settingsCommand } from '../../lib/cli/settings.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../fakes/gemini-upstream.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { FakeUpstream } from '../fakes/upstream-base.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-billing-7a8b';
/** Output tokens are what a broken stream is billed by; input is free so the figures stay exact. */
const PRICE = { inputPerMTok: 0, outputPerMTok: 1000 };
const ADMIN_TOKEN = 'billing-admin-token-0123456789';
const WORDS = Array.from({ length: 8 }, (_, i) => ` w${i}`);

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
const fakes: Record<'openai' | 'anthropic' | 'gemini', FakeUpstream> = {} as never;
let restoreStdout: () => void;

async function newKey(input: Parameters<typeof env.stores.keys.create>[0]) {
  const created = await env.stores.keys.create(input);
  return { id: created.key.keyId, key: created.plaintext };
}

async function post(path: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    id: response.headers.get('x-request-id') ?? '',
    text: await response.text(),
  };
}

const chat = (key: string, model: string, extra: Record<string, unknown> = {}) =>
  post(
    '/v1/chat/completions',
    { authorization: `Bearer ${key}` },
    { model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], ...extra },
  );

/** The stores as a CLI command gets them. */
const cli = () => ({ ...env.stores, local: true });

async function logged(requestId: string) {
  for (let i = 0; i < 300; i++) {
    const entry = await env.stores.requestLog.get(requestId);
    if (entry !== undefined) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`request ${requestId} never reached the request log`);
}

beforeAll(async () => {
  // The configuration cache stays on, as deployed: settings changed below must bind the next request.
  process.env[ENV.credentialCacheSeconds] = '300';
  restoreStdout = captureStdout().restore;
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  fakes.openai = await startFakeOpenAI(UPSTREAM_KEY);
  fakes.anthropic = await startFakeAnthropic(UPSTREAM_KEY);
  fakes.gemini = await startFakeGemini(UPSTREAM_KEY);
  const p = env.stores.providers;
  await p.add(
    { name: 'openai', type: 'openai', baseUrl: `${fakes.openai.url}/v1`, models: ['priced', 'free'] },
    { secret: UPSTREAM_KEY },
  );
  await p.add(
    { name: 'anthropic', type: 'anthropic', baseUrl: fakes.anthropic.url, models: ['claude'] },
    { secret: UPSTREAM_KEY },
  );
  await p.add(
    { name: 'gemini', type: 'gemini', baseUrl: fakes.gemini.url, models: ['gemini-pro'] },
    { secret: UPSTREAM_KEY },
  );
  await p.setPrice('openai', 'priced', PRICE);
  await p.setPrice('anthropic', 'claude', PRICE);
  await p.setPrice('gemini', 'gemini-pro', PRICE);
  await p.setAlias('mixed', ['openai/free', 'openai/priced']);
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  restoreStdout?.();
  await gateway?.close();
  for (const fake of Object.values(fakes)) await fake?.close();
});

describe('models without a price', () => {
  it('refuses them to a key with a spend limit, clearly and without calling the upstream', async () => {
    // Prepare
    const { key } = await newKey({ name: 'limited', monthlyLimitMicros: 1_000_000 });
    const before = fakes.openai.requests.length;

    // Act
    const refused = await chat(key, 'openai/free');

    // Assess
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error).toMatchObject({ code: 'model_not_priced' });
    expect(JSON.parse(refused.text).error.message).toContain("'openai/free' has no price");
    expect(fakes.openai.requests.length).toBe(before);
  });

  it('refuses them to a key of a team with a budget, and skips an alias’s unpriced targets', async () => {
    // Prepare
    const team = await env.stores.teams.create('budgeted', 1_000_000);
    const { key } = await newKey({ name: 'member', teamId: team.teamId });
    const before = fakes.openai.requests.length;

    // Act
    const refused = await chat(key, 'openai/free');
    const viaAlias = await chat(key, 'mixed');

    // Assess: the alias went straight to its priced target.
    expect(refused.status).toBe(403);
    expect(viaAlias.status).toBe(200);
    const sent = fakes.openai.requests.slice(before).map((r) => JSON.parse(r.body).model);
    expect(sent).toEqual(['priced']);
  });

  it('serves them to a key without limits, at no charge', async () => {
    const { key } = await newKey({ name: 'unlimited' });
    const answer = await chat(key, 'openai/free');
    expect(answer.status).toBe(200);
    expect((await logged(answer.id)).costMicros).toBe(0);
  });

  it('bills them at the default price once the operator sets one, and refuses them again once cleared', async () => {
    // Prepare
    const { id, key } = await newKey({ name: 'defaulted', monthlyLimitMicros: 1_000_000 });

    // Act
    await settingsCommand({ json: true, defaultInput: '0', defaultOutput: '2000' })(cli());
    const set = await env.stores.settings.get();
    const answer = await chat(key, 'openai/free');
    const entry = await logged(answer.id);
    await settingsCommand({ json: true, clearDefaultPrice: true })(cli());
    const again = await chat(key, 'openai/free');

    // Assess: the fake answers 6 completion tokens; 6 × 2000 = 12000 µUSD.
    expect(set.defaultPrice).toEqual({ inputPerMTok: 0, outputPerMTok: 2000 });
    expect(answer.status).toBe(200);
    expect(entry.costMicros).toBe(12_000);
    expect((await env.stores.meter.monthSpend(`key#${id}`)).spentMicros).toBe(12_000);
    expect(again.status).toBe(403);
  });

  it('refuses contradictory settings with a usage error and changes nothing', async () => {
    expect(() => settingsCommand({ json: true, defaultInput: '1' })).toThrow(/--default-output/);
    expect((await env.stores.settings.get()).defaultPrice).toBeUndefined();
  });
});

describe('a stream that breaks off is billed for what was delivered', () => {
  const CUT_AFTER = 3;
  const cases = [
    {
      api: 'anthropic',
      send: (key: string) =>
        post(
          '/v1/messages',
          { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
          {
            model: 'anthropic/claude',
            max_tokens: 100,
            stream: true,
            messages: [{ role: 'user', content: 'Hi' }],
          },
        ),
      delta: 'event: content_block_delta',
    },
    {
      api: 'openai',
      send: (key: string) => chat(key, 'openai/priced', { stream: true, max_tokens: 100 }),
      delta: '"content":" w',
    },
    {
      api: 'gemini',
      send: (key: string) =>
        post(
          '/v1beta/models/gemini-pro:streamGenerateContent?alt=sse',
          { 'x-goog-api-key': key },
          {
            contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
            generationConfig: { maxOutputTokens: 100 },
          },
        ),
      delta: '"text":" w',
    },
  ] as const;

  for (const c of cases) {
    it(`${c.api}: cut after ${CUT_AFTER} content deltas, billed ${CUT_AFTER} output tokens`, async () => {
      // Prepare
      const fake = fakes[c.api];
      fake.state.words = WORDS;
      fake.state.stream = { breakAfter: CUT_AFTER };
      const { id, key } = await newKey({ name: `cut-${c.api}`, monthlyLimitMicros: 1_000_000 });

      // Act
      const answer = await c.send(key);
      fake.state.stream = {};
      const entry = await logged(answer.id);

      // Assess: the client saw exactly N deltas, then the API's own in-band error.
      expect(answer.status).toBe(200);
      expect(answer.text.split(c.delta).length - 1).toBe(CUT_AFTER);
      expect(entry.outputTokens).toBe(CUT_AFTER);
      expect(entry.costMicros).toBe(CUT_AFTER * PRICE.outputPerMTok);
      const spend = await env.stores.meter.monthSpend(`key#${id}`);
      expect(spend).toMatchObject({ spentMicros: CUT_AFTER * PRICE.outputPerMTok, reservedMicros: 0 });
    });
  }
});

describe('the installation budget', () => {
  it('refuses every key with 402 billing_shortfall once reached, and unpriced models while set', async () => {
    // Prepare: room for two requests of 10 output tokens at 1000 USD/MTok (10000 µUSD each).
    const { key } = await newKey({ name: 'wallet' });
    const { key: other } = await newKey({ name: 'wallet-2' });
    const set = await fetch(`${gateway.url}/admin/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': ADMIN_TOKEN },
      body: JSON.stringify({ budgetUsd: 0.025 }),
    });

    // Act
    const first = await chat(key, 'openai/priced');
    const second = await chat(other, 'openai/priced');
    const third = await chat(key, 'openai/priced');
    const unpriced = await chat(other, 'openai/free');
    await settingsCommand({ json: true, clearBudget: true })(cli());
    const cleared = await chat(key, 'openai/priced');

    const shown = (await (
      await fetch(`${gateway.url}/admin/settings`, { headers: { 'x-tollgate-admin-token': ADMIN_TOKEN } })
    ).json()) as { budgetUsd: number | null };

    // Assess
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ budgetUsd: 0.025, budgetShards: { count: 1 } });
    expect(shown.budgetUsd).toBeNull();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(third.status).toBe(402);
    expect(JSON.parse(third.text).error).toMatchObject({
      code: 'billing_shortfall',
      message: "The gateway's monthly budget is reached.",
    });
    expect(unpriced.status).toBe(403);
    expect(cleared.status).toBe(200);
    const settings = await env.stores.settings.get();
    expect(settings.budgetMicros).toBeUndefined();
    expect(settings.budgetShards).toEqual({ count: 1, previous: 1, from: expect.any(String) });
  });
});

describe('a key split over shards', () => {
  it('admits one request per shard when each slice fits one, and reads its spend and requests over all of them', async () => {
    // Prepare: $0.04 over 4 shards in effect this month: each slice (10000 µUSD) fits one request's
    // estimate of 10000, and after it settles no longer a second. Unsplit, the key would admit several more.
    const { id, key } = await newKey({ name: 'split', monthlyLimitMicros: 40_000 });
    await documentClient().send(
      new UpdateCommand({
        TableName: env.state.tables.keys,
        Key: { keyId: id },
        UpdateExpression: 'SET shards = :four, previousShards = :four, shardsFrom = :past ADD rev :one',
        ExpressionAttributeValues: { ':four': 4, ':past': '2000-01', ':one': 1 },
      }),
    );

    // Act
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await chat(key, 'openai/priced'));
    const costs = await Promise.all(answers.slice(0, 4).map(async (a) => (await logged(a.id)).costMicros));
    const info = (await (
      await fetch(`${gateway.url}/v1/key`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      spend: { spentUsd: number };
    };
    const shown = await fetch(`${gateway.url}/admin/keys/${id}`, {
      headers: { 'x-tollgate-admin-token': ADMIN_TOKEN },
    });

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 402]);
    expect(JSON.parse(answers[4]?.text ?? '{}').error).toMatchObject({
      code: 'api_key_quota_exceeded',
      message: expect.stringContaining('no shard of it has $0.01 left'),
    });
    expect(info.spend.spentUsd * 1_000_000).toBeCloseTo(
      costs.reduce((sum, c) => sum + Number(c), 0),
      6,
    );
    expect(await shown.json()).toMatchObject({ requests: 4, monthShards: { count: 4, previous: 4 } });
  });
});
