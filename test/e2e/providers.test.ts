/**
 * Upstream providers end to end through the local gateway: native Anthropic (the `@anthropic-ai/sdk`
 * with `x-api-key` and with a Bearer token) and Gemini (`?key=` and `x-goog-api-key`) routes, credential
 * failover, alias fallback, the catalogue and health, stream robustness (client abort, timeouts,
 * heartbeats) and SSRF safety — and afterwards a scan of logs, responses and tables for secrets.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../fakes/gemini-upstream.ts';
import { OPENAI_UNAUTHORIZED, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';
import { deferred, listen } from '../helpers/http.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const ANTHROPIC_KEY = 'sk-ant-upstream-0a1b2c3d';
const GEMINI_KEY = 'AIza-upstream-4e5f6a7b';
const FAILOVER_KEYS = ['k1a', 'k1b', 'k2a', 'k2b', 'k3a', 'k3b', 'k4a', 'k4b', 'k5'].map(
  (k) => `sk-fo-${k}-secret`,
);
const [K1A, K1B, K2A, K2B, K3A, K3B, K4A, K4B, K5] = FAILOVER_KEYS as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
const BACKUP_KEY = 'sk-backup-upstream-8c9d';
const MISC_KEY = 'sk-misc-upstream-1e2f';
const UPSTREAM_SECRETS = [ANTHROPIC_KEY, GEMINI_KEY, BACKUP_KEY, MISC_KEY, ...FAILOVER_KEYS];

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let clientKey: string;
let keyId: string;
const fakes = {} as {
  anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
  gemini: Awaited<ReturnType<typeof startFakeGemini>>;
  failover: Awaited<ReturnType<typeof startFakeOpenAI>>;
  backup: Awaited<ReturnType<typeof startFakeOpenAI>>;
  breaking: Awaited<ReturnType<typeof startFakeOpenAI>>;
  slow: Awaited<ReturnType<typeof startFakeOpenAI>>;
  quiet: Awaited<ReturnType<typeof startFakeOpenAI>>;
  held: Awaited<ReturnType<typeof startFakeOpenAI>>;
};
let logLines: string[] = [];
const responseBodies: string[] = [];
let restoreStdout: () => void;

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  responseBodies.push(text);
  return { status: response.status, text, headers: response.headers };
}

const openai = () => new OpenAI({ apiKey: clientKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
const chat = (model: string) =>
  openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });

beforeAll(async () => {
  // Capture every log line of the suite for the secret scan at the end. The logger reads its level when
  // its module loads, so the level is set before anything that imports it is loaded.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  const capture = captureStdout();
  logLines = capture.lines;
  restoreStdout = capture.restore;

  process.env[ENV.firstByteTimeoutMs] = '1500';
  process.env[ENV.idleTimeoutMs] = '1000';
  process.env[ENV.heartbeatMs] = '200';
  process.env[ENV.credentialCacheSeconds] = '0';
  process.env[ENV.corsOrigins] = 'https://app.example.com';
  env = await setupLocalEnv();
  fakes.anthropic = await startFakeAnthropic(ANTHROPIC_KEY);
  fakes.gemini = await startFakeGemini(GEMINI_KEY);
  fakes.failover = await startFakeOpenAI(...FAILOVER_KEYS);
  fakes.backup = await startFakeOpenAI(BACKUP_KEY);
  fakes.breaking = await startFakeOpenAI(MISC_KEY);
  fakes.breaking.state.stream = { breakAfterFirst: true };
  fakes.slow = await startFakeOpenAI(MISC_KEY);
  fakes.slow.state.stream = { headerDelayMs: 3000 };
  fakes.quiet = await startFakeOpenAI(MISC_KEY);
  fakes.quiet.state.stream = { silenceAfterFirstMs: 2500 };
  fakes.held = await startFakeOpenAI(MISC_KEY);

  const p = env.stores.providers;
  await p.add(
    { name: 'anthropic', type: 'anthropic', baseUrl: fakes.anthropic.url, models: ['claude-sonnet-4.6'] },
    { secret: ANTHROPIC_KEY },
  );
  await p.add(
    { name: 'gemini', type: 'gemini', baseUrl: fakes.gemini.url, models: ['gemini-2.5-flash'] },
    { secret: GEMINI_KEY },
  );
  await p.add(
    { name: 'backup', type: 'openai-compatible', baseUrl: fakes.backup.baseUrl, models: ['llama-3'] },
    { secret: BACKUP_KEY },
  );
  const pairs: Array<[string, string, string]> = [
    ['fo1', K1A, K1B],
    ['fo2', K2A, K2B],
    ['fo3', K3A, K3B],
    ['fo4', K4A, K4B],
  ];
  for (const [name, first, second] of pairs) {
    await p.add(
      { name, type: 'openai', baseUrl: fakes.failover.baseUrl, models: ['m'] },
      { secret: first, priority: 0 },
    );
    await p.addCredential(name, { secret: second, priority: 1 });
  }
  await p.add(
    { name: 'fo5', type: 'openai', baseUrl: fakes.failover.baseUrl, models: ['m'] },
    { secret: K5 },
  );
  await p.add({ name: 'breaking', type: 'openai', baseUrl: fakes.breaking.baseUrl }, { secret: MISC_KEY });
  await p.add({ name: 'slow', type: 'openai', baseUrl: fakes.slow.baseUrl }, { secret: MISC_KEY });
  await p.add({ name: 'quiet', type: 'openai', baseUrl: fakes.quiet.baseUrl }, { secret: MISC_KEY });
  await p.add({ name: 'held', type: 'openai', baseUrl: fakes.held.baseUrl }, { secret: MISC_KEY });
  await p.setAlias('fast', ['fo5/m', 'backup/llama-3']);
  await p.setAlias('fragile', ['breaking/m', 'backup/llama-3']);

  const created = await env.stores.keys.create({ name: 'providers-e2e' });
  clientKey = created.plaintext;
  keyId = created.key.keyId;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
});

afterAll(async () => {
  restoreStdout?.();
  await gateway?.close();
  for (const fake of Object.values(fakes)) await fake?.close();
});

describe('Anthropic Messages API', () => {
  const viaApiKey = () =>
    new Anthropic({
      apiKey: clientKey,
      baseURL: gateway.url,
      maxRetries: 0,
      defaultHeaders: { 'anthropic-beta': 'prompt-caching-2024-07-31' },
    });
  const viaBearer = () =>
    new Anthropic({ apiKey: null, authToken: clientKey, baseURL: gateway.url, maxRetries: 0 });

  it('answers a message with x-api-key, forwarding the provider credential and the anthropic headers', async () => {
    // Prepare
    fakes.anthropic.reset();

    // Act
    const message = await viaApiKey().messages.create({
      model: 'anthropic/claude-sonnet-4.6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });

    // Assess
    expect(message.content[0]).toEqual({ type: 'text', text: 'Hello from the fake upstream.' });
    const upstream = fakes.anthropic.requests[0];
    expect(upstream?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(upstream?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(upstream?.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    expect(JSON.parse(upstream?.body ?? '{}').model).toBe('claude-sonnet-4.6');
    expect(JSON.stringify(upstream)).not.toContain(clientKey);
  });

  it('sends the default anthropic-version when the client sends none', async () => {
    fakes.anthropic.reset();
    const response = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4.6', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] },
      { 'x-api-key': clientKey },
    );
    expect(response.status).toBe(200);
    expect(fakes.anthropic.requests[0]?.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('streams a message with a Bearer token and a bare model id', async () => {
    // Act
    const stream = await viaBearer().messages.create({
      model: 'claude-sonnet-4.6',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }

    // Assess
    expect(text).toBe('Hello from the fake upstream.');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
  });

  it.each([
    ['x-api-key', () => viaApiKey()],
    ['Bearer', () => viaBearer()],
  ])('answers with %s both whole and streamed', async (_carrier, make) => {
    const whole = await make().messages.create({
      model: 'claude-sonnet-4.6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const stream = make().messages.stream({
      model: 'claude-sonnet-4.6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const final = await stream.finalMessage();
    expect(whole.content[0]).toEqual({ type: 'text', text: 'Hello from the fake upstream.' });
    expect(final.content[0]).toEqual({ type: 'text', text: 'Hello from the fake upstream.' });
    expect(final.usage.output_tokens).toBe(6);
  });

  it('counts tokens', async () => {
    const count = await viaApiKey().messages.countTokens({
      model: 'claude-sonnet-4.6',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(count.input_tokens).toBe(12);
  });

  it('raises the SDK’s own error classes for a bad key, an out-of-scope model and an upstream 400', async () => {
    // Prepare
    const scoped = await env.stores.keys.create({ name: 'gemini-only', models: ['gemini/*'] });

    // Act
    const badKey = await new Anthropic({ apiKey: 'sk-tg-nope', baseURL: gateway.url, maxRetries: 0 }).messages
      .create({ model: 'claude-sonnet-4.6', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    const outOfScope = await new Anthropic({
      apiKey: scoped.plaintext,
      baseURL: gateway.url,
      maxRetries: 0,
    }).messages
      .create({ model: 'claude-sonnet-4.6', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    const upstream400 = await viaApiKey()
      .messages.create({ model: 'claude-sonnet-4.6', messages: [{ role: 'user', content: 'Hi' }] } as never)
      .catch((e: unknown) => e);

    // Assess
    expect(badKey).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((badKey as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    expect(outOfScope).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((outOfScope as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({
      error: { type: 'permission_error' },
    });
    expect(upstream400).toBeInstanceOf(Anthropic.BadRequestError);
    expect((upstream400 as Error).message).toContain('max_tokens');
  });
});

describe('Gemini API', () => {
  const body = { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] };

  it('answers generateContent with ?key=, forwarding the credential and never the query key', async () => {
    // Prepare
    fakes.gemini.reset();

    // Act
    const response = await post(`/v1beta/models/gemini-2.5-flash:generateContent?key=${clientKey}`, body);

    // Assess
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).candidates[0].content.parts[0].text).toBe(
      'Hello from the fake upstream.',
    );
    const upstream = fakes.gemini.requests[0];
    expect(upstream?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(upstream?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(JSON.stringify(upstream)).not.toContain(clientKey);
  });

  it('streams streamGenerateContent with x-goog-api-key and a provider slug', async () => {
    // Act
    const response = await post(
      '/v1beta/models/gemini%2Fgemini-2.5-flash:streamGenerateContent?alt=sse',
      body,
      { 'x-goog-api-key': clientKey },
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const chunks = response.text
      .split(/\r?\n\r?\n/)
      .filter((block) => block.startsWith('data: '))
      .map(
        (block) =>
          JSON.parse(block.slice(6)) as {
            candidates: Array<{ content: { parts: Array<{ text: string }> } }>;
          },
      );
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe(
      'Hello from the fake upstream.',
    );
  });

  it.each([
    [
      '?key=',
      (path: string) => ({ path: `${path}${path.includes('?') ? '&' : '?'}key=${clientKey}`, headers: {} }),
    ],
    ['x-goog-api-key', (path: string) => ({ path, headers: { 'x-goog-api-key': clientKey } })],
  ])('answers with %s both whole and streamed', async (_carrier, carry) => {
    const whole = carry('/v1beta/models/gemini-2.5-flash:generateContent');
    const streamed = carry('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const a = await post(whole.path, body, whole.headers);
    const b = await post(streamed.path, body, streamed.headers);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.text.split(/\r?\n\r?\n/).filter((x) => x.startsWith('data: '))).toHaveLength(6);
  });

  it('answers in Gemini’s error shape: 400 without alt=sse, 401 for a bad key', async () => {
    const noSse = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent', body, {
      'x-goog-api-key': clientKey,
    });
    expect(noSse.status).toBe(400);
    expect(JSON.parse(noSse.text)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const badKey = await post('/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaWrong', body);
    expect(badKey.status).toBe(401);
    expect(JSON.parse(badKey.text)).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
  });

  it('meters usage from usageMetadata, and from Anthropic and OpenAI usage alike', async () => {
    // Act
    const rows = await env.stores.usage.forKey(keyId);

    // Assess: 6 Gemini calls (9 in / 6 out each), 7 Anthropic messages (12 in / 6 out each; count_tokens is free).
    const gemini = rows.find((r) => r.model === 'gemini/gemini-2.5-flash');
    expect(gemini).toMatchObject({ requests: 6, inputTokens: 54, outputTokens: 36 });
    const anthropic = rows.find((r) => r.model === 'anthropic/claude-sonnet-4.6');
    expect(anthropic).toMatchObject({ requests: 7, inputTokens: 84, outputTokens: 42 });
  });
});

describe('credential failover', () => {
  it('rides through a rate-limited credential: one clean success, then skips it while it cools down', async () => {
    // Prepare
    fakes.failover.reset();
    fakes.failover.state.rateLimited.add(K1A);

    // Act
    const first = await chat('fo1/m');
    const second = await chat('fo1/m');

    // Assess
    expect(first.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(second.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(fakes.failover.requests.map((r) => r.credential)).toEqual([K1A, K1B, K1B]);
  });

  it('moves past a credential the upstream refuses, and marks it in /health', async () => {
    // Prepare
    fakes.failover.reset();
    fakes.failover.state.failing.set(K2A, OPENAI_UNAUTHORIZED);
    const [refused] = await env.stores.providers.listCredentials('fo2');

    // Act
    const answer = await chat('fo2/m');
    const health = await (await fetch(`${gateway.url}/health`)).json();

    // Assess
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(fakes.failover.requests.map((r) => r.credential)).toEqual([K2A, K2B]);
    const fo2 = (
      health as { providers: Array<{ name: string; rejectedCredentials: unknown[] }> }
    ).providers.find((p) => p.name === 'fo2');
    expect(fo2?.rejectedCredentials).toEqual([{ id: refused?.id, status: 401, at: expect.any(String) }]);
  });

  it('answers 502 upstream_credential_rejected, not the client’s 401, when every credential is refused', async () => {
    // Prepare
    fakes.failover.reset();
    fakes.failover.state.failing.set(K2A, OPENAI_UNAUTHORIZED);
    fakes.failover.state.failing.set(K2B, { ...OPENAI_UNAUTHORIZED, status: 403 });
    fakes.anthropic.reset();
    fakes.anthropic.state.failing.set(ANTHROPIC_KEY, {
      status: 401,
      body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
    });

    // Act
    const err = await chat('fo2/m').catch((e: unknown) => e);
    const anthropic = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4.6', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] },
      { 'x-api-key': clientKey, 'anthropic-version': '2023-06-01' },
    );
    fakes.anthropic.reset();

    // Assess
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).not.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 502, code: 'upstream_credential_rejected', type: 'server_error' });
    expect(fakes.failover.requests.map((r) => r.credential)).toEqual([K2A, K2B]);
    expect(anthropic.status).toBe(502);
    expect(JSON.parse(anthropic.text)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(anthropic.text).toContain('upstream provider');
  });

  it('maps a 500 from the first credential to 502 without trying the second', async () => {
    fakes.failover.reset();
    fakes.failover.state.failing.set(K3A, {
      status: 500,
      body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
    });
    const err = await chat('fo3/m').catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(fakes.failover.requests.map((r) => r.credential)).toEqual([K3A]);
  });

  it('returns the last 429 when every credential is rate limited', async () => {
    fakes.failover.reset();
    // Each credential's 429 says a different Retry-After, so the client's shows which one it got.
    const limited = (retryAfter: string) => ({
      status: 429,
      headers: { 'retry-after': retryAfter },
      body: {
        error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' },
      },
    });
    fakes.failover.state.failing.set(K4A, limited('20'));
    fakes.failover.state.failing.set(K4B, limited('7'));
    const err = await chat('fo4/m').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    // The last upstream 429's Retry-After reaches the client.
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('7');
    expect(fakes.failover.requests.map((r) => r.credential)).toEqual([K4A, K4B]);
  });
});

describe('model aliases', () => {
  it('falls back to the next target on a 5xx before the first byte', async () => {
    // Prepare
    fakes.failover.reset();
    fakes.backup.reset();
    fakes.failover.state.failing.set(K5, {
      status: 503,
      body: { error: { message: 'overloaded', type: 'server_error', param: null, code: null } },
    });

    // Act
    const answer = await chat('fast');

    // Assess
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(fakes.failover.requests).toHaveLength(1);
    expect(fakes.backup.requests).toHaveLength(1);
    expect(JSON.parse(fakes.backup.requests[0]?.body ?? '{}').model).toBe('llama-3');
  });

  it('does not fall back once the first byte has gone out: the failure arrives in-band', async () => {
    // Prepare
    fakes.backup.reset();

    // Act
    const stream = await openai().chat.completions.create({
      model: 'fragile',
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);

    // Assess
    expect(deltas.join('')).toBe('Hello');
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('broke off');
    expect(fakes.backup.requests).toHaveLength(0);
  });

  it('applies the key scope to the resolved targets', async () => {
    const scoped = await env.stores.keys.create({ name: 'backup-only', models: ['backup/*'] });
    const answer = await new OpenAI({
      apiKey: scoped.plaintext,
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
    }).chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
  });
});

describe('stream robustness', () => {
  it('closes the upstream connection within 1 s of a client abort mid-stream', async () => {
    // Prepare: the upstream holds its last chunk for 10 s.
    fakes.held.reset();
    fakes.held.state.stream = { gate: new Promise<void>(() => undefined), gateTimeoutMs: 10_000 };
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'held/m', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    let seen = '';
    while (!seen.includes('"content":"Hello"'))
      seen += new TextDecoder().decode((await reader?.read())?.value);

    // Act
    const abortedAt = Date.now();
    controller.abort();
    const deadline = abortedAt + 1000;
    while (fakes.held.state.abortedAt === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));

    // Assess
    expect(fakes.held.state.abortedAt).toBeDefined();
    expect((fakes.held.state.abortedAt ?? Number.POSITIVE_INFINITY) - abortedAt).toBeLessThan(1000);
  });

  it('answers 504 in the API’s shape when the upstream sends no headers in time', async () => {
    const err = await openai()
      .chat.completions.create({ model: 'slow/m', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_timeout');
  });

  it('sends heartbeats while the upstream is silent, then an in-band timeout error', async () => {
    // Act
    const response = await post(
      '/v1/chat/completions',
      { model: 'quiet/m', stream: true, messages: [{ role: 'user', content: 'Hi' }] },
      { authorization: `Bearer ${clientKey}` },
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.text).toContain('"content":"Hello"');
    expect(response.text).toContain(': keep-alive\n\n');
    const last = response.text.trim().split('\n\n').at(-1) ?? '';
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({ error: { code: 'upstream_timeout' } });
  });
});

describe('CORS', () => {
  it('answers preflight and lets only the configured origin read responses', async () => {
    // Act
    const preflight = await fetch(`${gateway.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    const allowed = await fetch(`${gateway.url}/v1/models`, {
      headers: { origin: 'https://app.example.com' },
    });
    const other = await fetch(`${gateway.url}/v1/models`, {
      headers: { origin: 'https://evil.example.net' },
    });

    // Assess
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-api-key');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('SSRF safety', () => {
  it('never follows an upstream redirect, so the other listener receives nothing', async () => {
    // Prepare
    const trapped: string[] = [];
    const trap = await listen((req, res) => {
      trapped.push(JSON.stringify(req.headers));
      res.end('{}');
    });
    const redirector = await listen((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${trap.port}/v1/chat/completions` });
      res.end();
    });
    await env.stores.providers.add(
      { name: 'redirecting', type: 'openai', baseUrl: `http://127.0.0.1:${redirector.port}/v1` },
      { secret: MISC_KEY },
    );

    // Act
    const err = await chat('redirecting/m').catch((e: unknown) => e);
    const hostile = await post(
      '/v1/chat/completions',
      { model: 'redirecting/m', messages: [{ role: 'user', content: 'Hi' }] },
      {
        authorization: `Bearer ${clientKey}`,
        host: `127.0.0.1:${trap.port}`,
        'x-forwarded-host': `127.0.0.1:${trap.port}`,
      },
    );
    await trap.close();
    await redirector.close();

    // Assess
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(hostile.status).toBe(502);
    expect(trapped).toEqual([]);
  });
});

describe('catalogue and health', () => {
  it('lists the public catalogue without a key and what a key may use with one', async () => {
    // Prepare
    const scoped = await env.stores.keys.create({ name: 'anthropic-only', models: ['anthropic/*'] });

    // Act
    const open = await (await fetch(`${gateway.url}/v1/models`)).json();
    const mine = await new OpenAI({
      apiKey: scoped.plaintext,
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
    }).models.list();
    const bad = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer sk-tg-bad' } });

    // Assess
    const ids = (open as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'anthropic/claude-sonnet-4.6',
        'gemini/gemini-2.5-flash',
        'backup/llama-3',
        'fo1/m',
        'fast',
      ]),
    );
    expect(mine.data.map((m) => m.id)).toEqual(['anthropic/claude-sonnet-4.6']);
    expect(bad.status).toBe(401);
  });

  it('reports each provider’s credentials and last error class and time, with no secrets', async () => {
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
      providers: Array<{
        name: string;
        credentials: number;
        lastError: { class: string; at: string } | null;
      }>;
    };
    const byName = new Map(health.providers.map((p) => [p.name, p]));
    expect(byName.get('fo1')).toMatchObject({ credentials: 2, lastError: { class: 'rate_limited' } });
    expect(byName.get('fo3')).toMatchObject({ lastError: { class: 'upstream_500' } });
    expect(byName.get('slow')?.lastError?.class).toBe('upstream_timeout');
    expect(byName.get('anthropic')?.lastError).toMatchObject({
      class: 'upstream_credential_rejected',
      status: 401,
    });
    expect(byName.get('gemini')?.lastError).toBeNull();
    expect(JSON.stringify(health)).not.toMatch(/sk-|AIza/);
  });
});

describe('secrets stay secret', () => {
  it('leaves no upstream credential in any log line, response or table, and no client key in logs', async () => {
    // Prepare
    const done = deferred();
    setTimeout(() => done.resolve(), 50);
    await done.promise;
    const tables = await env.dumpTables();
    const logs = logLines.join('');

    // Assess
    expect(logs).toContain('"message":"request"');
    for (const secret of UPSTREAM_SECRETS) {
      expect(logs).not.toContain(secret);
      expect(responseBodies.join('\n')).not.toContain(secret);
      expect(tables).not.toContain(secret);
    }
    expect(logs).not.toContain(clientKey);
  });
});
