/**
 * Key governance end to end through the local gateway (authorizer cache at 300 s), on DynamoDB Local:
 * carriers, revocation on the very next request, teams, spend and rate limits under concurrency, metering
 * to the cent, billing of clients that disconnect, imported keys, grace rotation, the request log, and a
 * property test that arbitrary keys and bodies never cause a 5xx or a stack trace.
 */

import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueKey } from '#shared/keys.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { freshMinute } from '../helpers/clock.ts';
import { deferred } from '../helpers/http.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-governance-5d6e';
/** USD per million tokens: 7 prompt tokens and 6 completion tokens cost 7×3000 + 6×6000 = 57000 µUSD. */
const PRICE = { inputPerMTok: 3000, outputPerMTok: 6000 };
const IMPORTED_KEY = 'acme_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let gateway: RunningGateway;
const issued: string[] = [IMPORTED_KEY];
let logLines: string[] = [];
const bodies: string[] = [];
let restoreStdout: () => void;

async function newKey(
  input: Parameters<typeof env.stores.keys.create>[0],
): Promise<{ id: string; key: string }> {
  const created = await env.stores.keys.create(input);
  issued.push(created.plaintext);
  return { id: created.key.keyId, key: created.plaintext };
}

const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

async function chat(
  apiKey: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }], ...extra }),
  });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, headers: response.headers, text };
}

/** Waits for the settlement of a request (it runs after the response) to reach the request log. */
async function logged(requestId: string) {
  for (let i = 0; i < 200; i++) {
    const entry = await env.stores.requestLog.get(requestId);
    if (entry !== undefined) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`request ${requestId} never reached the request log`);
}

/** Keeps a burst inside one rate-limit minute: waits for the next minute when fewer than 15 s are left. */
beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  // Providers and prices change during the suite; a warm instance would otherwise see them only after the cache TTL.
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  // A client that leaves is noticed at the next write to it: while the upstream is silent, a heartbeat.
  process.env.TOLLGATE_HEARTBEAT_MS = '100';
  const capture = captureStdout();
  logLines = capture.lines;
  restoreStdout = capture.restore;
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('openai', 'gpt-4o', PRICE);
  await env.stores.keys.importHash('acme-ci', createHash('sha256').update(IMPORTED_KEY).digest('hex'));
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
});

afterAll(async () => {
  restoreStdout?.();
  await gateway?.close();
  await fake?.close();
});

describe('carriers and key kinds', () => {
  it('accepts every carrier on routes whose clients use it', async () => {
    // Prepare
    const { id, key } = await newKey({ name: 'carriers' });
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}${path}`, { headers });

    // Act
    const answers = await Promise.all([
      get('/v1/key', { authorization: `Bearer ${key}` }),
      get('/v1/key', { 'x-api-key': key }),
      get('/v1/key', { 'x-goog-api-key': key }),
      get(`/v1/key?key=${key}`),
    ]);

    // Assess
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { id: string }).id).toBe(id);
    }
  });

  it('authenticates an imported key of foreign format, and refuses it once deleted', async () => {
    const answer = await client(IMPORTED_KEY).chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    const imported = (await env.stores.keys.list()).find((k) => k.name === 'acme-ci');
    await env.stores.keys.delete(imported?.keyId ?? '');
    expect((await chat(IMPORTED_KEY)).status).toBe(401);
  });

  it('keeps the old secret working through a rotation grace period, and not after a plain rotation', async () => {
    // Prepare
    const { id, key } = await newKey({ name: 'grace' });
    expect((await chat(key)).status).toBe(200);

    // Act + Assess
    const graceful = await env.stores.keys.rotate(id, 3_600_000);
    issued.push(graceful.plaintext);
    expect((await chat(key)).status).toBe(200);
    expect((await chat(graceful.plaintext)).status).toBe(200);
    const plain = await env.stores.keys.rotate(id);
    issued.push(plain.plaintext);
    expect((await chat(key)).status).toBe(401);
    expect((await chat(graceful.plaintext)).status).toBe(401);
    expect((await chat(plain.plaintext)).status).toBe(200);
  });
});

/** Moves a key's expiry, as an operator's `--expires` plus the passing of time would. */
async function setExpiry(keyId: string, at: string): Promise<void> {
  await documentClient().send(
    new UpdateCommand({
      TableName: env.state.tables.keys,
      Key: { keyId },
      UpdateExpression: 'SET expiresAt = :at',
      ExpressionAttributeValues: { ':at': at },
    }),
  );
}

describe('revocation on the very next request, with the authorizer cache on', () => {
  async function warm(key: string): Promise<number> {
    expect((await chat(key)).status).toBe(200);
    return gateway.authorizer.invocations;
  }

  it.each([
    ['disable', (id: string) => env.stores.keys.setStatus(id, 'disabled')],
    ['delete', (id: string) => env.stores.keys.delete(id)],
    ['rotate', (id: string) => env.stores.keys.rotate(id)],
    // The clock passing the expiry, simulated by moving the expiry into the past.
    ['expiry', (id: string) => setExpiry(id, new Date(Date.now() - 1000).toISOString())],
  ])('%s', async (_label, revoke) => {
    // Prepare
    const { id, key } = await newKey({ name: `revoke-${_label}` });
    const invocations = await warm(key);

    // Act
    await revoke(id);
    const refused = await chat(key);

    // Assess
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({
      error: { code: 'invalid_api_key', message: 'Invalid API key. Check the Tollgate key you sent.' },
    });
    expect(gateway.authorizer.invocations).toBe(invocations);
  });

  it('team disable', async () => {
    // Prepare
    const team = await env.stores.teams.create('revoked-team');
    const { key } = await newKey({ name: 'team-member', teamId: team.teamId });
    const invocations = await warm(key);

    // Act
    await env.stores.teams.setStatus(team.teamId, 'disabled');
    const refused = await chat(key);

    // Assess
    expect(refused.status).toBe(401);
    expect(gateway.authorizer.invocations).toBe(invocations);
  });

  it('gives unknown, disabled, expired and deleted keys one identical body', async () => {
    const { id, key } = await newKey({ name: 'identical' });
    await env.stores.keys.setStatus(id, 'disabled');
    const unknown = await chat(issueKey('sk-tg-').plaintext);
    const disabled = await chat(key);
    const strip = (text: string) => JSON.stringify({ ...JSON.parse(text), request_id: undefined });
    expect(strip(unknown.text)).toBe(strip(disabled.text));
  });
});

describe('limits under concurrency', () => {
  /** Cost of one request whose estimate equals its actual cost: no input price, output capped at 6. */
  const EXACT = { max_tokens: 6 };
  const EXACT_PRICE = { inputPerMTok: 0, outputPerMTok: 5000 };
  const PER_REQUEST = 6 * 5000;

  beforeAll(async () => {
    await env.stores.providers.add(
      { name: 'exact', type: 'openai', baseUrl: fake.baseUrl, models: ['m'] },
      { secret: UPSTREAM_KEY },
    );
    await env.stores.providers.setPrice('exact', 'm', EXACT_PRICE);
  });

  async function burst(key: string, count: number, extra: Record<string, unknown> = EXACT) {
    const results = await Promise.all(
      Array.from({ length: count }, () => chat(key, { model: 'exact/m', ...extra })),
    );
    return { ok: results.filter((r) => r.status === 200).length, results };
  }

  it('admits no more requests than a key’s remaining monthly budget allows (200 concurrent)', async () => {
    // Prepare: room for exactly 7 requests.
    const { id, key } = await newKey({
      name: 'budget',
      monthlyLimitMicros: 7 * PER_REQUEST + PER_REQUEST - 1,
    });

    // Act
    const { ok, results } = await burst(key, 200);

    // Assess
    expect(ok).toBe(7);
    const refused = results.filter((r) => r.status !== 200);
    expect(
      refused.every((r) => r.status === 402 && JSON.parse(r.text).error.code === 'api_key_quota_exceeded'),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const spend = await env.stores.meter.monthSpend(`key#${id}`);
    expect(spend).toMatchObject({ spentMicros: 7 * PER_REQUEST, reservedMicros: 0 });
  });

  it('admits no more than a team’s budget allows across its keys (200 concurrent)', async () => {
    // Prepare: a team with room for 5 requests, three keys hammering it.
    const team = await env.stores.teams.create('budgeted', 5 * PER_REQUEST + PER_REQUEST - 1);
    const keys = await Promise.all(
      [1, 2, 3].map((n) => newKey({ name: `team-key-${n}`, teamId: team.teamId })),
    );

    // Act
    const bursts = await Promise.all(keys.map(({ key }) => burst(key, 60)));

    // Assess
    expect(bursts.reduce((sum, b) => sum + b.ok, 0)).toBe(5);
    const refused = bursts.flatMap((b) => b.results).filter((r) => r.status !== 200);
    expect(
      refused.every((r) => r.status === 402 && JSON.parse(r.text).error.code === 'billing_shortfall'),
    ).toBe(true);
  });

  it('admits no more than the RPM limit in a minute (200 concurrent), answering 429 with Retry-After and x-ratelimit headers', async () => {
    // Prepare
    const { key } = await newKey({ name: 'rpm', rpm: 9 });
    await freshMinute();

    // Act
    const { ok, results } = await burst(key, 200);

    // Assess
    expect(ok).toBe(9);
    const limited = results.find((r) => r.status === 429);
    expect(JSON.parse(limited?.text ?? '{}')).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited?.headers.get('x-ratelimit-limit')).toBe('9');
    expect(limited?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited?.headers.get('x-ratelimit-reset'))).toBeLessThanOrEqual(60);
  });

  it('bounds overshoot by the in-flight requests’ excess over their estimates (DESIGN.md)', async () => {
    // Prepare: each request reserves 1 output token but the upstream answers 6, so it costs 5 more than
    // reserved. The limit admits 4 reservations; spend may exceed it by at most 4 × the excess.
    const { id, key } = await newKey({ name: 'overshoot', monthlyLimitMicros: 4 * 5000 + 4999 });

    // Act
    const { ok } = await burst(key, 50, { max_tokens: 1 });
    await new Promise((r) => setTimeout(r, 200));
    const spend = await env.stores.meter.monthSpend(`key#${id}`);
    const after = await chat(key, { model: 'exact/m', max_tokens: 1 });

    // Assess
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(4);
    const limit = 4 * 5000 + 4999;
    const excessPerRequest = PER_REQUEST - 5000;
    expect(spend.spentMicros).toBe(ok * PER_REQUEST);
    expect(spend.spentMicros).toBeLessThanOrEqual(limit + ok * excessPerRequest);
    expect(after.status).toBe(402);
  });
});

describe('metering', () => {
  it('bills streamed and whole answers at tokens × price, to the cent', async () => {
    // Prepare
    const { id, key } = await newKey({ name: 'metered' });

    // Act
    const whole = await client(key).chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const stream = await client(key).chat.completions.create({
      model: 'openai/gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    await new Promise((r) => setTimeout(r, 100));
    const info = (await (
      await fetch(`${gateway.url}/v1/key`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      spend: { spentUsd: number; reservedUsd: number };
    };

    // Assess: 57000 µUSD each = $0.057; the stream's usage chunk (asked for by the gateway) stays hidden.
    expect(whole.usage?.total_tokens).toBe(13);
    expect(chunks.some((c) => c.usage !== undefined && c.usage !== null)).toBe(false);
    expect(info.spend).toEqual({ month: expect.any(String), spentUsd: 0.114, reservedUsd: 0 });
    const rows = await env.stores.usage.forKey(id);
    expect(rows).toEqual([
      expect.objectContaining({ model: 'openai/gpt-4o', requests: 2, inputTokens: 14, outputTokens: 12 }),
    ]);
  });

  it('shows the usage chunk to a client that asked for it, and bills the same', async () => {
    const { key } = await newKey({ name: 'asked' });
    const stream = await client(key).chat.completions.create({
      model: 'openai/gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let usage: unknown;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 6 });
  });

  it('bills a client that disconnects mid-stream for what it received, and leaves no reservation', async () => {
    // Prepare: the upstream holds its last word until released.
    const { id, key } = await newKey({ name: 'leaver' });
    const release = deferred();
    fake.state.stream = { gate: release.promise, gateTimeoutMs: 10_000 };
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'openai/gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
      signal: controller.signal,
    });
    const requestId = response.headers.get('x-request-id') ?? '';
    const reader = response.body?.getReader();
    let seen = '';
    while (!seen.includes('"content":" upstream"'))
      seen += new TextDecoder().decode((await reader?.read())?.value);

    // Act: leave after five of six words.
    controller.abort();
    const entry = await logged(requestId);
    release.resolve();
    fake.state.stream = {};

    // Assess: input estimated from the body (the usage report never came), output = 5 words delivered.
    const inputEstimate = Math.ceil(
      Buffer.byteLength(
        JSON.stringify({ model: 'openai/gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      ) / 4,
    );
    expect(entry).toMatchObject({ disconnected: true, outputTokens: 5, inputTokens: inputEstimate });
    expect(entry.costMicros).toBe(Math.ceil(inputEstimate * PRICE.inputPerMTok + 5 * PRICE.outputPerMTok));
    const spend = await env.stores.meter.monthSpend(`key#${id}`);
    expect(spend).toMatchObject({ spentMicros: entry.costMicros, reservedMicros: 0 });
  });
});

describe('request log and usage routes', () => {
  it('logs each request without content, and serves it by request id to its own key only', async () => {
    // Prepare
    const { id, key } = await newKey({ name: 'logged' });
    const other = await newKey({ name: 'other' });

    // Act
    const answer = await chat(key);
    const requestId = answer.headers.get('x-request-id') ?? '';
    const entry = await logged(requestId);
    const mine = await fetch(`${gateway.url}/v1/usage?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const theirs = await fetch(`${gateway.url}/v1/usage?request_id=${requestId}`, {
      headers: { authorization: `Bearer ${other.key}` },
    });
    const daily = (await (
      await fetch(`${gateway.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { data: unknown[] };

    // Assess
    expect(entry).toMatchObject({
      keyId: id,
      route: 'POST /v1/chat/completions',
      model: 'openai/gpt-4o',
      provider: 'openai',
      status: 200,
      inputTokens: 7,
      outputTokens: 6,
      costMicros: 57000,
      disconnected: false,
    });
    expect(entry.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(entry)).not.toContain('Hello');
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { costUsd: number }).costUsd).toBe(0.057);
    expect(theirs.status).toBe(404);
    expect(daily.data).toEqual([expect.objectContaining({ model: 'openai/gpt-4o', requests: 1 })]);
  });

  it('keeps a deleted key’s requests searchable by request id', async () => {
    const { id, key } = await newKey({ name: 'to-be-deleted' });
    const requestId = (await chat(key)).headers.get('x-request-id') ?? '';
    await logged(requestId);
    await env.stores.keys.delete(id);
    expect(await env.stores.requestLog.get(requestId)).toMatchObject({ keyId: id, status: 200 });
  });

  it('reports the key’s own name, team, scope, limits, spend and rate-limit state', async () => {
    const team = await env.stores.teams.create('info-team', 50_000_000);
    const { id, key } = await newKey({
      name: 'info',
      teamId: team.teamId,
      models: ['openai/*'],
      monthlyLimitMicros: 20_000_000,
      rpm: 60,
      tpm: 100_000,
    });
    await chat(key);
    const info = await (await fetch(`${gateway.url}/v1/key`, { headers: { 'x-api-key': key } })).json();
    expect(info).toMatchObject({
      id,
      name: 'info',
      models: ['openai/*'],
      team: { id: team.teamId, name: 'info-team', budgetUsd: 50 },
      limits: { monthlyLimitUsd: 20, rpm: 60, tpm: 100_000 },
      rateLimit: { requestsThisMinute: expect.any(Number), remainingRequests: expect.any(Number) },
    });
  });
});

describe('arbitrary input', () => {
  it('answers arbitrary keys with 401 and arbitrary bodies with 400, never a 5xx or a stack trace (property)', async () => {
    const { key } = await newKey({ name: 'fuzz' });
    const printable = fc.string({ minLength: 1, maxLength: 120 }).filter((s) => /^[\x21-\x7e]+$/.test(s));
    await fc.assert(
      fc.asyncProperty(
        printable,
        fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })),
        async (candidate, body) => {
          const byKey = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${candidate}`, 'content-type': 'application/json' },
            body: '{"model":"openai/gpt-4o","messages":[{"role":"user","content":"x"}]}',
          });
          const byBody = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
          });
          const texts = [await byKey.text(), await byBody.text()];
          expect(byKey.status).toBe(401);
          expect([400, 404]).toContain(byBody.status);
          for (const text of texts) expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|Error:/);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('secrets at rest and in logs', () => {
  it('leaves no plaintext key in any table, log line or error body', async () => {
    const tables = await env.dumpTables();
    const logs = logLines.join('');
    expect(logs).toContain('"message":"request"');
    // CloudWatch metrics ride the same stdout as embedded-metric-format lines.
    expect(logs).toMatch(/"_aws":\{"Timestamp":\d+,"CloudWatchMetrics":\[\{"Namespace":"Tollgate"/);
    expect(logs).toContain('"CostMicroUSD"');
    expect(logs).toContain('"ErrorsByCode"');
    expect(logs).toContain('"UpstreamLatency"');
    for (const key of issued) {
      expect(tables).not.toContain(key);
      expect(logs).not.toContain(key);
      expect(bodies.join('\n')).not.toContain(key);
    }
    expect(tables).not.toContain(UPSTREAM_KEY);
  });
});
