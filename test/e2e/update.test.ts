/**
 * Changing keys and teams through `PATCH /admin/…` on the local gateway with the authorizer cache at
 * 300 s: scope and limits bind the very next request, although the cached authorizer context still holds
 * the old ones; each change is audited with its before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '#shared/audit/chain.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import type { StreamPoller } from '../../lib/local/stream-poller.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const TOKEN = 'c'.repeat(64);
const UPSTREAM_KEY = 'sk-upstream-update-3c4d';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let gateway: RunningGateway;
let poller: StreamPoller;
/** The key whose limits, team and expiry change, so the audit test can tell its records apart. */
let moverId = '';

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gateway.url}/admin${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': TOKEN },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function chat(key: string, model: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, code: body.error?.code };
}

beforeAll(async () => {
  // Providers and prices are set up front; the proxy's own configuration cache plays no part here.
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'up', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o', 'gpt-4o-mini'] },
    { secret: UPSTREAM_KEY },
  );
  // 0.01 USD per token: any request's estimate (its output reservation alone) is far above 0.01 USD.
  await env.stores.providers.setPrice('up', 'gpt-4o', { inputPerMTok: 10_000, outputPerMTok: 10_000 });
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300, adminToken: TOKEN });
  const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
  poller = await auditPoller(env.state);
});

afterAll(async () => {
  await poller?.stop();
  await gateway?.close();
  await fake?.close();
});

describe('PATCH /admin/keys/ID', () => {
  it('narrows and widens the scope, sets and clears a limit, each from the next request on', async () => {
    // Prepare: the first request puts the key's context in the authorizer cache.
    const created = await admin('POST', '/keys', { name: 'scoped', models: ['up/gpt-4o'] });
    const key = String(created.body.key);
    const first = await chat(key, 'up/gpt-4o');

    // Act + Assess: each change, then the very next request.
    const narrowed = await admin('PATCH', '/keys/scoped', { models: ['up/gpt-4o-mini'] });
    expect(narrowed.body).toMatchObject({ models: ['up/gpt-4o-mini'] });
    expect(await chat(key, 'up/gpt-4o')).toEqual({ status: 403, code: 'model_not_allowed' });
    expect((await chat(key, 'up/gpt-4o-mini')).status).toBe(200);

    await admin('PATCH', `/keys/${String(created.body.id)}`, { models: ['up/*'], monthlyLimitUsd: 0.01 });
    expect(await chat(key, 'up/gpt-4o')).toEqual({ status: 402, code: 'api_key_quota_exceeded' });

    const cleared = await admin('PATCH', '/keys/scoped', { monthlyLimitUsd: null });
    expect(cleared.body).not.toHaveProperty('monthlyLimitUsd');
    expect((await chat(key, 'up/gpt-4o')).status).toBe(200);
    expect(first.status).toBe(200);
  });

  it('binds rate limits, a move into a team and an expiry from the next request on', async () => {
    // Prepare: a key with no limits, its context cached by a first request; a team with no room.
    const created = await admin('POST', '/keys', { name: 'mover' });
    const key = String(created.body.key);
    moverId = String(created.body.id);
    const first = await chat(key, 'up/gpt-4o');
    await admin('POST', '/teams', { name: 'tight', budgetUsd: 0.01 });

    // Act + Assess: a TPM below any request's estimate refuses the very next request.
    await admin('PATCH', '/keys/mover', { tpm: 1 });
    expect(await chat(key, 'up/gpt-4o')).toEqual({ status: 429, code: 'rate_limited' });
    // RPM 1: of three requests at least two share a minute, so one of them is refused.
    await admin('PATCH', '/keys/mover', { tpm: null, rpm: 1 });
    const rated = [await chat(key, 'up/gpt-4o'), await chat(key, 'up/gpt-4o'), await chat(key, 'up/gpt-4o')];
    expect(rated.map((r) => r.status)).toContain(429);
    expect(rated.filter((r) => r.status !== 429).map((r) => r.status)).toEqual(
      rated.filter((r) => r.status !== 429).map(() => 200),
    );
    await admin('PATCH', '/keys/mover', { rpm: null, team: 'tight' });
    expect(await chat(key, 'up/gpt-4o')).toEqual({ status: 402, code: 'billing_shortfall' });
    await admin('PATCH', '/keys/mover', { team: null });
    expect((await chat(key, 'up/gpt-4o')).status).toBe(200);
    const expires = new Date(Date.now() + 1_500).toISOString();
    expect((await admin('PATCH', '/keys/mover', { expires })).body).toMatchObject({ expiresAt: expires });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(await chat(key, 'up/gpt-4o')).toMatchObject({ status: 401 });
    expect(first.status).toBe(200);
  });

  it('refuses what it cannot change with the field named, and changes nothing', async () => {
    // Prepare
    await admin('POST', '/keys', { name: 'steady', rpm: 5 });

    // Act
    const bad = await admin('PATCH', '/keys/steady', { rpm: 0, name: 'renamed' });
    const empty = await admin('PATCH', '/keys/steady', {});
    const missing = await admin('PATCH', '/keys/nobody', { rpm: 3 });
    const unknownTeam = await admin('PATCH', '/keys/steady', { team: 'nowhere' });

    // Assess
    expect(bad).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'rpm must be a positive integer', field: 'rpm' } },
    });
    expect(empty.status).toBe(400);
    expect(missing.status).toBe(404);
    expect(unknownTeam.status).toBe(400);
    expect((await admin('GET', '/keys/steady')).body).toMatchObject({ name: 'steady', rpm: 5 });
  });
});

describe('PATCH /admin/teams/ID', () => {
  it("changes a team's budget and name; its keys see the budget on their next request", async () => {
    // Prepare
    const team = await admin('POST', '/teams', { name: 'payers', budgetUsd: 1000 });
    const created = await admin('POST', '/keys', { name: 'payer', team: 'payers' });
    const key = String(created.body.key);
    const before = await chat(key, 'up/gpt-4o');

    // Act
    const tightened = await admin('PATCH', '/teams/payers', { budgetUsd: 0.01, name: 'savers' });
    const refused = await chat(key, 'up/gpt-4o');
    const loosened = await admin('PATCH', `/teams/${String(team.body.id)}`, { budgetUsd: null });
    const after = await chat(key, 'up/gpt-4o');

    // Assess
    expect(before.status).toBe(200);
    expect(tightened.body).toMatchObject({ name: 'savers', budgetUsd: 0.01 });
    expect(refused).toEqual({ status: 402, code: 'billing_shortfall' });
    expect(loosened.body).not.toHaveProperty('budgetUsd');
    expect(after.status).toBe(200);
  });
});

describe('PUT /admin/teams/ID/shards', () => {
  it('splits a team named by its name, and refuses a count out of range with the field named', async () => {
    // Prepare
    await admin('POST', '/teams', { name: 'crowd', budgetUsd: 100 });

    // Act
    const split = await admin('PUT', '/teams/crowd/shards', { count: 8 });
    const refused = await admin('PUT', '/teams/crowd/shards', { count: 0 });

    // Assess
    expect(split.status).toBe(200);
    expect(split.body).toMatchObject({
      name: 'crowd',
      budgetUsd: 100,
      budgetShards: { count: 8, previous: 1 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: { code: 'invalid_request', message: 'count must be a positive integer', field: 'count' },
    });
    expect((await admin('GET', '/teams/crowd')).body).toMatchObject({ budgetShards: { count: 8 } });
  });
});

describe('PUT /admin/keys/ID/shards', () => {
  it('splits a key named by its name from next month, and refuses a count out of range', async () => {
    // Prepare
    await admin('POST', '/keys', { name: 'fleet', monthlyLimitUsd: 40 });

    // Act
    const split = await admin('PUT', '/keys/fleet/shards', { count: 6 });
    const refused = await admin('PUT', '/keys/fleet/shards', { count: 101 });

    // Assess (its audit record is the last key update below)
    expect(split.status).toBe(200);
    expect(split.body).toMatchObject({ name: 'fleet', monthShards: { count: 6, previous: 1 } });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', field: 'count' } },
    });
  });
});

describe('the audit log', () => {
  it('records each update with its before and after', async () => {
    // Act
    await poller.drain();
    const keyUpdates = (await admin('GET', '/audit?action=key.update')).body as unknown as AuditRecord[];
    const teamUpdates = (await admin('GET', '/audit?action=team.update')).body as unknown as AuditRecord[];

    // Assess
    expect(keyUpdates.filter((r) => r.target.id === moverId).map((r) => Object.keys(r.diff).sort())).toEqual([
      ['tpm'],
      ['rpm', 'tpm'],
      ['rpm', 'teamId'],
      ['teamId'],
      ['expiresAt'],
    ]);
    expect(keyUpdates.filter((r) => r.target.id !== moverId).map((r) => r.diff)).toEqual([
      { models: { before: ['up/gpt-4o'], after: ['up/gpt-4o-mini'] } },
      {
        models: { before: ['up/gpt-4o-mini'], after: ['up/*'] },
        monthlyLimitMicros: { before: null, after: 10_000 },
      },
      { monthlyLimitMicros: { before: 10_000, after: null } },
      {
        shards: { before: null, after: 6 },
        previousShards: { before: null, after: 1 },
        shardsFrom: { before: null, after: expect.stringMatching(/^\d{4}-\d{2}$/) },
      },
    ]);
    expect(teamUpdates.map((r) => r.diff)).toEqual([
      { name: { before: 'payers', after: 'savers' }, budgetMicros: { before: 1_000_000_000, after: 10_000 } },
      { budgetMicros: { before: 10_000, after: null } },
      {
        shards: { before: null, after: 8 },
        previousShards: { before: null, after: 1 },
        shardsFrom: { before: null, after: expect.stringMatching(/^\d{4}-\d{2}$/) },
      },
    ]);
  });
});
