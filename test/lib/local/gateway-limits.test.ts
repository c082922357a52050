/**
 * The local gateway refuses what AWS refuses: the streamed integration's 15 minutes, the 5-minute idle
 * stream, the buffered integration's 29 s, Lambda's synchronous payload. Limits are fired through a manual
 * clock, never waited for; the real authorizer and proxy run on DynamoDB Local against a fake upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_LIMITS } from '../../../lib/aws-limits.ts';
import { proxyEvent } from '../../../lib/local/events.ts';
import type { RunningGateway } from '../../../lib/local/gateway.ts';
import type { GatewayClock } from '../../../lib/local/integration-limits.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-upstream.ts';
import { deferred } from '../../helpers/http.ts';
import { setupLocalEnv } from '../../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-limits-0a1b2c3d4e';
const ADMIN_TOKEN = 'admin-token-for-limits-test';

/** A clock whose timers fire when the test says so; `immediate` ones fire as soon as they are set. */
function manualClock(immediate: readonly number[] = []) {
  const pending = new Set<{ ms: number; fire: () => void }>();
  const clock: GatewayClock = {
    after(ms, fire) {
      if (immediate.includes(ms)) {
        fire();
        return () => undefined;
      }
      const timer = { ms, fire };
      pending.add(timer);
      return () => pending.delete(timer);
    },
  };
  return {
    clock,
    /** Fires every pending timer of this duration. */
    fire(ms: number): number {
      const due = [...pending].filter((t) => t.ms === ms);
      for (const timer of due) {
        pending.delete(timer);
        timer.fire();
      }
      return due.length;
    },
  };
}

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let key: string;
const gateways: RunningGateway[] = [];

async function gatewayWith(
  options: Partial<Parameters<typeof import('../../../lib/local/gateway.ts').startGateway>[0]>,
) {
  const { startGateway } = await import('../../../lib/local/gateway.ts');
  const gateway = await startGateway({
    port: 0,
    authorizerCacheTtlSeconds: 0,
    adminToken: ADMIN_TOKEN,
    ...options,
  });
  gateways.push(gateway);
  return gateway;
}

const chat = (gateway: RunningGateway, body: Record<string, unknown>) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      ...body,
    }),
  });

/** Waits (bounded) until the fake upstream has seen `n` requests. */
async function upstreamSaw(n: number): Promise<void> {
  for (let i = 0; i < 500 && fake.requests.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(fake.requests.length).toBe(n);
}

beforeAll(async () => {
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'openai', type: 'openai', baseUrl: fake.baseUrl },
    { secret: UPSTREAM_KEY },
  );
  key = (await env.stores.keys.create({ name: 'limits' })).plaintext;
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await fake?.close();
});

describe('integration limits', () => {
  it('answers 504 INTEGRATION_TIMEOUT when a streamed integration has sent nothing in 15 minutes', async () => {
    // Prepare: the upstream holds its headers back, so the proxy has nothing to send.
    fake.reset();
    fake.state.stream = { headerDelayMs: 20_000 };
    const time = manualClock();
    const gateway = await gatewayWith({ clock: time.clock });

    // Act
    const answer = chat(gateway, { stream: true });
    await upstreamSaw(1);
    const fired = time.fire(AWS_LIMITS.streamedIntegrationTimeoutMs);
    const response = await answer;

    // Assess
    expect(fired).toBe(1);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
  });

  it('cuts a stream that has been silent for 5 minutes, after the events it did send', async () => {
    // Prepare: the upstream sends its first events, then waits at the gate.
    fake.reset();
    const gate = deferred();
    fake.state.stream = { gate: gate.promise, gateTimeoutMs: 20_000 };
    const time = manualClock();
    const gateway = await gatewayWith({ clock: time.clock });
    const response = await chat(gateway, { stream: true });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();

    // Act
    const fired = time.fire(AWS_LIMITS.regionalStreamIdleMs);
    const rest: string[] = [];
    let cut = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest.push(new TextDecoder().decode(value));
      }
    } catch {
      cut = true;
    }
    gate.resolve();

    // Assess
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(first.value)).toContain('data:');
    expect(fired).toBe(1);
    expect(cut || !rest.join('').includes('[DONE]')).toBe(true);
    expect(rest.join('')).not.toContain('[DONE]');
  });

  it('answers 504 when a buffered (management) integration outlasts its 29 s', async () => {
    // Prepare: API Gateway's 29 s are up at once.
    const time = manualClock([AWS_LIMITS.bufferedIntegrationTimeoutMs]);
    const gateway = await gatewayWith({ clock: time.clock });

    // Act
    const response = await fetch(`${gateway.url}/admin/keys`, {
      headers: { 'x-tollgate-admin-token': ADMIN_TOKEN },
    });

    // Assess
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
  });

  it('refuses with 413 an event over Lambda’s synchronous payload limit, before invoking anything', async () => {
    // Prepare: a scaled limit; the proxy's own maxBodyBytes (1 MiB) would accept the body.
    fake.reset();
    const gateway = await gatewayWith({ limits: { lambdaSyncPayloadBytes: 32 * 1024 } });

    // Act
    const small = await chat(gateway, { user: 'a'.repeat(8 * 1024) });
    const large = await chat(gateway, { user: 'a'.repeat(40 * 1024) });

    // Assess
    expect(small.status).toBe(200);
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ error: { code: 'request_too_large' } });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('client disconnect', () => {
  it('aborts the upstream call when the client leaves before the upstream answered', async () => {
    // Prepare: the upstream holds its headers back, so no body stream exists yet to be cancelled.
    fake.reset();
    fake.state.stream = { headerDelayMs: 20_000 };
    const gateway = await gatewayWith({});
    const client = new AbortController();

    // Act: the response stream the handler got closes, which must abort the request's signal.
    const answer = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
      signal: client.signal,
    }).catch(() => undefined);
    await upstreamSaw(1);
    client.abort();
    await answer;
    for (let i = 0; i < 500 && fake.state.abortedBeforeHeadersAt === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));

    // Assess
    expect(fake.state.abortedBeforeHeadersAt).toBeDefined();
  });
});

describe('events as API Gateway fills them', () => {
  it('puts the last value of a repeated header in headers and all of them in multiValueHeaders, the body as text', () => {
    // Act
    const event = proxyEvent(
      {
        requestId: 'r',
        method: 'POST',
        path: '/v1/chat/completions',
        resource: '/v1/chat/completions',
        params: {},
        headers: { 'x-tag': 'b', 'content-type': 'application/octet-stream' },
        multiValueHeaders: { 'x-tag': ['a', 'b'], 'content-type': ['application/octet-stream'] },
        query: new URLSearchParams(),
        body: Buffer.from('{"a":1}'),
        sourceIp: '127.0.0.1',
        stage: 'local',
      },
      null,
    );

    // Assess
    expect(event.headers['x-tag']).toBe('b');
    expect(event.multiValueHeaders['x-tag']).toEqual(['a', 'b']);
    expect(event.body).toBe('{"a":1}');
    expect(event.isBase64Encoded).toBe(false);
  });
});
