/**
 * DynamoDB Local stopped mid-traffic, on a DynamoDB Local of this file's own (on a data folder, so it can
 * be started again on the same port with the same data): every route answers 503 with `Retry-After` in its
 * own shape — the proxy's routes, the key check of uncached routes, the management API — `/health` is 503
 * `degraded` naming storage, and everything recovers once storage is back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from '../../lib/local/dynamodb-local.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-outage-7c1d';
const ADMIN_TOKEN = 'o'.repeat(64);
const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-outage-db-'));
let port: number;
let dynamo: DynamoDbLocal;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let fake: FakeOpenAI;
let key: string;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

const chat = () =>
  call('/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
  });
const keyInfo = () => call('/v1/key', { headers: { 'x-api-key': key } });
const adminKeys = () => call('/admin/keys', { headers: { 'x-tollgate-admin-token': ADMIN_TOKEN } });
const health = () => call('/health');

beforeAll(async () => {
  port = await freePort();
  dynamo = await startDynamoDbLocal({ dbPath: dataDir, port });
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv(dynamo.endpoint);
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM_KEY },
  );
  key = (await env.stores.keys.create({ name: 'outage' })).plaintext;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await dynamo?.stop();
});

describe('storage outage', () => {
  it('answers 503 with Retry-After and a degraded /health while DynamoDB is down, then recovers', {
    timeout: 240_000,
  }, async () => {
    // Prepare: traffic flows (and the OpenAI route's authorizer Allow is cached).
    expect((await chat()).status).toBe(200);
    expect((await keyInfo()).status).toBe(200);
    expect((await health()).body).toMatchObject({ status: 'ok', storage: { status: 'ok' } });
    const background: number[] = [];
    let flowing = true;
    const traffic = (async () => {
      for (let i = 0; flowing && i < 2000; i++) background.push((await chat()).status);
    })();

    // Act: storage goes away mid-traffic.
    await new Promise((r) => setTimeout(r, 200));
    await dynamo.stop();
    const down = {
      chat: await chat(),
      keyInfo: await keyInfo(),
      admin: await adminKeys(),
      health: await health(),
    };
    dynamo = await startDynamoDbLocal({ dbPath: dataDir, port });
    let recovered = await chat();
    for (let i = 0; recovered.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      recovered = await chat();
    }
    let healthAfter = await health();
    for (let i = 0; healthAfter.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      healthAfter = await health();
    }
    flowing = false;
    await traffic;

    // Assess: every failure is a 503 in the route's own shape with Retry-After, never a 500 or 502.
    expect(down.chat).toMatchObject({
      status: 503,
      retryAfter: '1',
      body: { error: { code: 'storage_unavailable', type: 'server_error' } },
    });
    expect(down.keyInfo).toMatchObject({
      status: 503,
      retryAfter: '1',
      body: { error: { code: 'storage_unavailable' } },
    });
    expect(down.admin).toMatchObject({
      status: 503,
      retryAfter: '1',
      body: { error: { code: 'storage_unavailable' } },
    });
    expect(down.health).toMatchObject({
      status: 503,
      retryAfter: '1',
      body: { status: 'degraded', storage: { status: 'unavailable' } },
    });
    expect(recovered).toMatchObject({ status: 200 });
    expect(healthAfter).toMatchObject({ status: 200, body: { status: 'ok', storage: { status: 'ok' } } });
    expect(background.length).toBeGreaterThan(0);
    expect(background.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  });
});
