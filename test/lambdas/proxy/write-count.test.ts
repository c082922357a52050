/**
 * DynamoDB writes per proxied request, counted by the observer of the proxy's own (lean) client (DynamoDB
 * Local reports the units): plain single-item writes only — no transaction, whose items cost double and
 * conflict — and exactly the writes the README's cost table counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '#shared/env.ts';
import type { EffectiveLimits } from '#shared/store/metering.ts';
import { storesFromEnv } from '#shared/store/stores.ts';
import { proxyFromEnv } from '../../../lambdas/proxy/deps.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-upstream.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';
import { countWriteUnits } from '../../helpers/write-units.ts';

const UPSTREAM_KEY = 'sk-upstream-writes-5e6f';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;

beforeAll(async () => {
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '300';
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['m'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('openai', 'm', { inputPerMTok: 1, outputPerMTok: 2 });
});

afterAll(async () => {
  await fake?.close();
});

/**
 * Sends `warm` requests, then `n` more through an in-process proxy, and returns what its DynamoDB client
 * wrote and read per request of the `n`.
 */
async function writesPerRequest(input: { teamId?: string; limits: EffectiveLimits }, n = 5, warm = 0) {
  const created = await env.stores.keys.create({
    name: 'counted',
    ...(input.teamId ? { teamId: input.teamId } : {}),
  });
  const { db, count } = countWriteUnits();
  const proxy = proxyFromEnv(readEnv(), storesFromEnv(readEnv(), undefined, db));
  for (let i = 0; i < warm + n; i++) {
    if (i === warm) Object.assign(count, { units: 0, writes: 0, reads: 0, conflicts: 0 });
    const response = await proxy.handle({
      requestId: `writes-${created.key.keyId}-${i}`,
      method: 'POST',
      resource: '/v1/chat/completions',
      path: '/v1/chat/completions',
      params: {},
      headers: { authorization: `Bearer ${created.plaintext}` },
      query: {},
      body: JSON.stringify({
        model: 'openai/m',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
      auth: {
        keyId: created.key.keyId,
        keyName: 'counted',
        models: [],
        teamId: input.teamId,
        limits: input.limits,
      },
      signal: new AbortController().signal,
    });
    expect(response.status).toBe(200);
  }
  return {
    writes: count.writes / n,
    units: count.units / n,
    conflicts: count.conflicts,
    reads: count.reads / n,
  };
}

describe('DynamoDB writes per request', () => {
  // The request log's write costs a second unit for its key+time index (`byKey`): DynamoDB bills each index
  // an item lands in as a write of its own.
  it('a key with a monthly limit: its month twice, its day row, the request log and its index — 4 writes, 5 units', async () => {
    const counted = await writesPerRequest({ limits: { monthlyLimitMicros: 1_000_000 } });
    expect(counted).toEqual({ writes: 4, units: 5, conflicts: 0, reads: expect.any(Number) });
  });

  it('a key split over 4 shards writes one of them, as an unsplit key its month — 4 writes, 5 units', async () => {
    const keyShards = { count: 4, previous: 4, from: '2000-01' };
    const counted = await writesPerRequest({ limits: { monthlyLimitMicros: 1_000_000, keyShards } });
    expect(counted).toEqual({ writes: 4, units: 5, conflicts: 0, reads: expect.any(Number) });
  });

  it('a key in a team with a budget adds the team shard twice — 6 writes, 7 units', async () => {
    const team = await env.stores.teams.create('counted-team', 1_000_000);
    const counted = await writesPerRequest({ teamId: team.teamId, limits: { teamBudgetMicros: 1_000_000 } });
    expect(counted).toEqual({ writes: 6, units: 7, conflicts: 0, reads: expect.any(Number) });
  });

  // Locally the configuration version is compared before every request (TOLLGATE_CONFIG_CHECK_MS=0); one
  // comparison serves all of a request's lookups (prices, settings, aliases, the provider). The key and
  // its team are then read together, in one BatchGetItem.
  it('a warm request reads the configuration version once, then the key and its team in one call — 2 reads', async () => {
    const team = await env.stores.teams.create('read-team', 1_000_000);
    const counted = await writesPerRequest(
      { teamId: team.teamId, limits: { teamBudgetMicros: 1_000_000 } },
      5,
      2,
    );
    expect(counted.reads).toBe(2);
  });
});
