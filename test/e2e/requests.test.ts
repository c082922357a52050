/**
 * Every request, per key, and per project (issue 11 items 3 and 5), on the local gateway with the authorizer
 * cache on and every DynamoDB call counted by a spy in front of DynamoDB Local: a key's requests — refused
 * ones too — listed newest first through `/v1/usage/requests`, `/admin/keys/ID/requests` and `tollgate usage
 * requests`, paged across 1,000 of them by queries of the request log's index (never a scan); last use and
 * request count on the key; error counts and TTFB in `usage --key`; a project named in the body or a header,
 * kept from the upstream and summed up by project; a deleted key's spend still in its team's total.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { freshMinute } from '../helpers/clock.ts';
import { startDynamoSpy } from '../helpers/dynamo-spy.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';
import { runCli } from '../helpers/run-cli.ts';

const TOKEN = 'd'.repeat(64);
const UPSTREAM_KEY = 'sk-upstream-requests-5e6f';
let spy: Awaited<ReturnType<typeof startDynamoSpy>>;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let gateway: RunningGateway;

type Json = Record<string, unknown>;
type Listed = { id: string; status: number; at: string; keyId: string; project?: string };

async function admin(path: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(`${gateway.url}/admin${path}`, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': TOKEN },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function chat(
  key: string,
  body: Json,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], ...body }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function ownRequests(key: string, query = ''): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${gateway.url}/v1/usage/requests${query}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function newKey(body: Json): Promise<{ id: string; key: string }> {
  const created = await admin('/keys', { method: 'POST', body });
  return { id: String(created.body.id), key: String(created.body.key) };
}

beforeAll(async () => {
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  spy = await startDynamoSpy(inject('dynamoEndpoint'));
  const { setupLocalEnv, shareWithCli } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv(spy.endpoint);
  shareWithCli(env.state, spy.endpoint);
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'up', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o', 'gpt-4o-mini', 'o3'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('up', 'gpt-4o', { inputPerMTok: 1, outputPerMTok: 1 });
  // 0.01 USD per token: any estimate is far above a limit of 0.01 USD.
  await env.stores.providers.setPrice('up', 'gpt-4o-mini', { inputPerMTok: 10_000, outputPerMTok: 10_000 });
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300, adminToken: TOKEN });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await spy?.close();
});

describe("a key's requests", () => {
  it('are logged, refused ones too, and listed newest first on every wire with last use and counts on the key', async () => {
    // Prepare
    const { id, key } = await newKey({
      name: 'listed',
      models: ['up/gpt-4o', 'up/gpt-4o-mini'],
      rpm: 3,
      monthlyLimitUsd: 0.01,
    });
    await freshMinute();

    // Act: 200, 403 (scope), 402 (limit), 200, 200, 429 (rate); a wrong secret for the same id is no
    // request of it.
    const answers = [
      await chat(key, { model: 'up/gpt-4o' }),
      await chat(key, { model: 'up/o3' }),
      await chat(key, { model: 'up/gpt-4o-mini' }),
      await chat(key, { model: 'up/gpt-4o' }),
      await chat(key, { model: 'up/gpt-4o' }),
      await chat(key, { model: 'up/gpt-4o' }),
    ];
    const impostor = await chat(`${key.slice(0, -6)}AAAAAA`, { model: 'up/gpt-4o' });
    const own = await ownRequests(key);
    const viaAdmin = await admin(`/keys/${id}/requests`);
    const byName429 = await admin('/keys/listed/requests?status=429');
    const cli = await runCli('usage', 'requests', '--key', 'listed', '--json');
    const shown = await admin('/keys/listed');
    const listed = await admin('/keys');
    const usage = await runCli('usage', '--key', 'listed', '--json');
    const usageText = await runCli('usage', '--key', 'listed');

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 403, 402, 200, 200, 429]);
    expect(impostor.status).toBe(401);
    const data = own.body.data as Listed[];
    expect(data.map((r) => r.status)).toEqual([429, 200, 200, 402, 403, 200]);
    expect(data.every((r) => r.keyId === id)).toBe(true);
    expect(data.map((r) => r.at)).toEqual(
      data
        .map((r) => r.at)
        .sort()
        .reverse(),
    );
    expect(data[0]).toMatchObject({
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      route: 'POST /v1/chat/completions',
    });
    expect(data[1]).toMatchObject({ model: 'up/gpt-4o', provider: 'up', status: 200 });
    expect(own.body.nextCursor).toBeNull();
    expect(viaAdmin.body.requests).toEqual(data);
    expect((byName429.body.requests as Listed[]).map((r) => r.status)).toEqual([429]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(viaAdmin.body);
    expect(shown.body).toMatchObject({ id, requests: 3 });
    expect(Date.parse(String(shown.body.lastUsedAt))).toBeGreaterThan(Date.now() - 60_000);
    expect((listed.body as unknown as Json[]).find((k) => k.id === id)).toMatchObject({ requests: 3 });
    const summary = (JSON.parse(usage.stdout) as { requests: Json }).requests;
    expect(summary).toMatchObject({
      keyId: id,
      requests: 6,
      byStatus: { '200': 3, '402': 1, '403': 1, '429': 1 },
      truncated: false,
    });
    expect(summary.ttfbP50Ms).toEqual(expect.any(Number));
    expect(Number(summary.ttfbP95Ms)).toBeGreaterThanOrEqual(Number(summary.ttfbP50Ms));
    expect(usageText.stdout).toMatch(/by status: 200: 3, 402: 1, 403: 1, 429: 1/);
    expect(usageText.stdout).toMatch(/time to first byte: p50 \d+ ms, p95 \d+ ms/);
  });

  it('page across 1,000 requests newest first by queries of the index, never a scan', async () => {
    // Prepare: 1,000 logged requests of one key (every 10th a 429), interleaved with another key's.
    const { id, key } = await newKey({ name: 'busy' });
    const other = await newKey({ name: 'quiet' });
    const start = Date.parse('2026-10-01T00:00:00.000Z');
    const entry = (keyId: string, i: number) => ({
      requestId: `${keyId}-${String(i).padStart(4, '0')}`,
      keyId,
      route: 'POST /v1/chat/completions',
      status: i % 10 === 0 ? 429 : 200,
      inputTokens: 1,
      outputTokens: 1,
      costMicros: 2,
      durationMs: 5,
      disconnected: false,
      at: new Date(start + i * 1000).toISOString(),
    });
    for (let i = 0; i < 1000; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => env.stores.requestLog.put(entry(id, i + j))).concat(
          env.stores.requestLog.put(entry(other.id, i)),
        ),
      );
    const scans = spy.count('Scan');
    const queries = spy.count('Query');

    // Act
    const pages: Listed[][] = [];
    let cursor: string | undefined;
    do {
      const page = await admin(
        `/keys/${id}/requests?limit=300${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      pages.push(page.body.requests as Listed[]);
      cursor = page.body.nextCursor as string | undefined;
    } while (cursor !== undefined);
    const limited = await ownRequests(key, '?status=429&limit=30');
    const window = await ownRequests(
      key,
      `?since=${new Date(start + 100_000).toISOString()}&until=${new Date(start + 109_000).toISOString()}`,
    );
    const foreign = await ownRequests(other.key, `?cursor=${String(limited.body.nextCursor)}`);
    const badLimit = await ownRequests(key, '?limit=1001');
    const badAdmin = await admin(`/keys/${id}/requests?until=yesterday-ish`);

    // Assess
    expect(pages.map((p) => p.length)).toEqual([300, 300, 300, 100]);
    const all = pages.flat();
    expect(new Set(all.map((r) => r.id)).size).toBe(1000);
    expect(all[0]?.id).toBe(`${id}-0999`);
    expect(all.at(-1)?.id).toBe(`${id}-0000`);
    expect(all.every((r) => r.keyId === id)).toBe(true);
    expect((limited.body.data as Listed[]).map((r) => r.status)).toEqual(Array(30).fill(429));
    expect((limited.body.data as Listed[])[0]?.id).toBe(`${id}-0990`);
    expect((window.body.data as Listed[]).map((r) => r.id)).toEqual(
      [109, 108, 107, 106, 105, 104, 103, 102, 101, 100].map((i) => `${id}-0${i}`),
    );
    expect([foreign.status, badLimit.status, badAdmin.status]).toEqual([400, 400, 400]);
    expect(foreign.body).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('cursor') },
    });
    expect(badLimit.status).toBe(400);
    expect(badAdmin).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(spy.count('Scan') - scans).toBe(0);
    expect(spy.count('Query') - queries).toBeGreaterThanOrEqual(4);
  });

  it("of a deleted key stay listed, and its spend stays in its team's total", async () => {
    // Prepare
    await admin('/teams', { method: 'POST', body: { name: 'keepers' } });
    const { id, key } = await newKey({ name: 'leaver', team: 'keepers' });
    expect((await chat(key, { model: 'up/gpt-4o' })).status).toBe(200);
    const before = await admin('/teams/keepers');

    // Act
    const deleted = await runCli('keys', 'delete', id, '--yes');
    const after = await admin('/teams/keepers');
    const history = await admin(`/keys/${id}/requests`);

    // Assess
    expect(deleted.code).toBe(0);
    expect(Number((before.body.spend as Json).spentUsd)).toBeGreaterThan(0);
    expect(after.body.spend).toEqual(before.body.spend);
    expect((history.body.requests as Listed[]).map((r) => r.status)).toEqual([200]);
  });
});

describe('projects', () => {
  it('are taken from the body or a header, kept from the upstream, and summed up by project', async () => {
    // Prepare
    const first = await newKey({ name: 'project-a' });
    const second = await newKey({ name: 'project-b' });
    const seen = fake.requests.length;

    // Act
    const inBody = await chat(first.key, { model: 'up/gpt-4o', project_id: 'checkout' });
    const inHeader = await chat(second.key, { model: 'up/gpt-4o' }, { 'x-tollgate-project': 'checkout' });
    const both = await chat(
      first.key,
      { model: 'up/gpt-4o', project_id: 'checkout' },
      { 'x-tollgate-project': 'checkout' },
    );
    const conflicting = await chat(
      first.key,
      { model: 'up/gpt-4o', project_id: 'a' },
      { 'x-tollgate-project': 'b' },
    );
    const malformed = await chat(first.key, { model: 'up/gpt-4o', project_id: 'no spaces' });
    const elsewhere = await chat(first.key, { model: 'up/gpt-4o', project_id: 'search' });
    const upstream = fake.requests.slice(seen);
    const forwarded = upstream.map((r) => JSON.parse(r.body) as Json);
    const viaAdmin = await admin('/projects/checkout/usage');
    const cli = await runCli('usage', '--project', 'checkout', '--json');
    const text = await runCli('usage', '--project', 'checkout');
    const own = await ownRequests(first.key, '?limit=1');

    // Assess
    expect([inBody, inHeader, both, elsewhere].map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(conflicting).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error' } } });
    expect(malformed.status).toBe(400);
    expect(forwarded).toHaveLength(4);
    expect(forwarded.every((body) => !('project_id' in body))).toBe(true);
    expect(upstream.filter((r) => 'x-tollgate-project' in r.headers)).toEqual([]);
    expect(viaAdmin.body).toMatchObject({ project: 'checkout', requests: 3, byStatus: { '200': 3 } });
    expect(Object.keys(viaAdmin.body.byKey as Json).sort()).toEqual([first.id, second.id].sort());
    expect(viaAdmin.body.byKey).toMatchObject({ [first.id]: { requests: 2 }, [second.id]: { requests: 1 } });
    expect(viaAdmin.body.byModel).toMatchObject({ 'up/gpt-4o': { requests: 3 } });
    expect(Number(viaAdmin.body.costUsd)).toBeGreaterThan(0);
    expect(JSON.parse(cli.stdout)).toEqual(viaAdmin.body);
    expect(text.stdout).toContain('project checkout since');
    expect((own.body.data as Listed[])[0]?.project).toBe('search');
    expect((await admin('/projects/bad%20name/usage')).status).toBe(400);
  });
});
