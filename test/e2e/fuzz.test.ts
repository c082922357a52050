/**
 * A seeded fuzz suite over every client route, every key carrier and every management path, sent over
 * real HTTP to the local gateway (API Gateway emulation, the real authorizer, proxy and admin handlers, on
 * DynamoDB Local, with wire-faithful fake upstreams): 10,000 generated requests — malformed %-encoding,
 * JSON nested 10,000 deep, over-long identifiers, out-of-range numbers, garbage keys in each carrier — and
 * not one 5xx. The management cases are drawn from `/admin`'s own route table, so every route it has is
 * fuzzed, with every method. Every refusal is JSON with an `error` object, and no provider is marked unhealthy by a
 * client's input. Re-run a failure with its seed and index (printed).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '#shared/admin/core.ts';
import { ROUTES } from '#shared/routes.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../fakes/gemini-upstream.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import type { FakeUpstream } from '../fakes/upstream-base.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);
const CASES = 10_000;
const CONCURRENCY = 8;
const ADMIN_TOKEN = 'f'.repeat(64);
const UPSTREAM = { openai: 'sk-fuzz-openai-1', anthropic: 'sk-fuzz-anthropic-1', gemini: 'fuzz-gemini-1' };

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
const fakes: FakeUpstream[] = [];
const keys = { valid: '', limited: '', revoked: '' };

/** One generated request. */
interface Case {
  /** Route template, for coverage. */
  route: string;
  carrier: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
}

const printable = (max: number) =>
  fc.string({
    unit: fc.constantFrom(...' !#$&()*+,-./0123456789:;<=>@ABCXYZ[]^_`abcxyz{|}~'),
    maxLength: max,
  });
const anyText = (max: number) => fc.string({ unit: 'grapheme', maxLength: max });
const longText = fc.constantFrom(1_001, 2_100, 5_000).map((n) => 'x'.repeat(n));
const badEncoding = fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff%fe', '%C0%AF', 'a%', '%%', '%u0041');
const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepValue = fc.constantFrom(64, 200, 1_000, 10_000);

/** Identifiers where ids go: plausible, garbage, malformed %-encoding, over-long. */
const identifier = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/),
  printable(30).map(encodeURIComponent),
  badEncoding,
  longText,
  anyText(20).map(encodeURIComponent),
);

/** What clients name as a model. Provider names never collide with those fuzzed through /admin. */
const model = fc.oneof(
  fc.constantFrom(
    'openai/gpt-4o',
    'anthropic/claude-fuzz',
    'gemini/gemini-fuzz',
    'claude-fuzz',
    'gemini-fuzz',
    'gpt-4o',
    'openai/',
    '/',
    '',
    'nobody/model',
  ),
  anyText(40),
  longText.map((x) => `openai/${x}`),
  fc.constantFrom(0, null, true, [], {}),
);

const messages = fc.oneof(
  fc.constant([{ role: 'user', content: 'Hi' }]),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const number = fc.oneof(
  fc.integer({ min: -10, max: 200 }),
  fc.double(),
  fc.constantFrom(1e300, -1e300, 0, 1e21, Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom('12', 'abc', null, true),
);

/** Request bodies: plausible per route, random JSON, deep nesting, invalid JSON, oversize. */
function body(kind: 'openai' | 'anthropic' | 'gemini' | 'embeddings' | 'responses'): fc.Arbitrary<string> {
  const plausible = {
    openai: fc.record(
      { model, messages, stream: fc.oneof(fc.boolean(), number), max_tokens: number, extra: fc.jsonValue() },
      { requiredKeys: ['model', 'messages'] },
    ),
    anthropic: fc.record(
      { model, messages, stream: fc.boolean(), max_tokens: number, system: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: ['model', 'messages'] },
    ),
    gemini: fc.record(
      {
        contents: fc.oneof(fc.constant([{ role: 'user', parts: [{ text: 'Hi' }] }]), messages),
        generationConfig: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['contents'] },
    ),
    embeddings: fc.record({ model, input: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })) }),
    responses: fc.record({
      model,
      input: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })),
      stream: fc.boolean(),
    }),
  }[kind];
  return fc.oneof(
    { weight: 6, arbitrary: plausible.map((b) => JSON.stringify(b)) },
    {
      weight: 2,
      arbitrary: fc.tuple(plausible, deepValue).map(([b, depth]) => {
        const text = JSON.stringify({ ...b, nested: 0 });
        return text.replace('"nested":0', `"nested":${deep(depth)}`);
      }),
    },
    { weight: 1, arbitrary: deepValue.map(deep) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: anyText(60) },
  );
}

/** Where a key travels, with what value. */
function carried(route: { carriers: string }) {
  const value = fc.oneof(
    fc.constantFrom('valid', 'limited', 'revoked').map((k) => keys[k as keyof typeof keys]),
    fc.constantFrom('', 'sk-tg-', 'sk-tg-AAAAAAAAAAAA_bad', `sk-tg-${'A'.repeat(600)}`),
    printable(60),
  );
  const carrier =
    route.carriers === 'bearer'
      ? fc.constantFrom('none', 'bearer')
      : fc.constantFrom('none', 'bearer', 'x-api-key', 'x-goog-api-key', 'query');
  return fc.tuple(carrier, value);
}

function withCarrier(c: Case, carrier: string, value: string): Case {
  const headers = { ...c.headers };
  const query = { ...c.query };
  if (carrier === 'bearer') headers.authorization = `Bearer ${value}`;
  if (carrier === 'x-api-key') headers['x-api-key'] = value;
  if (carrier === 'x-goog-api-key') headers['x-goog-api-key'] = value;
  if (carrier === 'query') query.key = value;
  return { ...c, carrier, headers, query };
}

/** Requests to the client API, route by route. */
const clientCase: fc.Arbitrary<Case> = fc.constantFrom(...ROUTES).chain((route) => {
  const kind =
    route.operation === 'embeddings'
      ? 'embeddings'
      : route.operation === 'responses'
        ? 'responses'
        : route.shape;
  const geminiTarget = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('gemini-fuzz', 'gemini/gemini-fuzz', 'nobody', ''),
        fc.constantFrom(':generateContent', ':streamGenerateContent', ':other', ''),
      )
      .map(([m, a]) => `${m}${a}`),
    badEncoding.map((b) => `gemini-${b}:generateContent`),
    identifier,
  );
  const path = route.path.includes('{model+}')
    ? geminiTarget.map((t) => `/v1beta/models/${t}`)
    : fc.constant(route.path);
  const query = fc.oneof(
    fc.constant({}),
    fc.constant({ alt: 'sse' }),
    fc.record({ request_id: fc.oneof(fc.constant(''), longText, anyText(20), fc.uuid()) }),
    fc.record(
      {
        since: fc.oneof(anyText(12), fc.constantFrom('2026-01-01', '7d', '99999999999999999999d')),
        until: anyText(12),
        status: fc.oneof(fc.constantFrom('200', '402', '99999'), anyText(4)),
        cursor: fc.oneof(anyText(40), longText, badEncoding),
        limit: fc.constantFrom('0', '1', '1000', '1e300', '-5', 'x'),
        project: fc.oneof(anyText(12), longText),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(printable(8), anyText(20), { maxKeys: 2 }),
  );
  return fc
    .record({
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
      ),
      path,
      query,
      body: route.method === 'POST' ? body(kind) : fc.constant(undefined),
      key: carried(route),
      extraHeader: fc.option(
        fc.record({ 'anthropic-version': printable(20), 'content-type': printable(30) }),
        { nil: undefined },
      ),
    })
    .map(({ method, path: p, query: q, body: b, key, extraHeader }) =>
      withCarrier(
        {
          route: route.path,
          carrier: 'none',
          method,
          path: p,
          query: q,
          headers: { 'content-type': 'application/json', ...(extraHeader ?? {}) },
          ...(b === undefined || method === 'GET' ? {} : { body: b }),
        },
        key[0],
        key[1],
      ),
    );
});

/** A management request body: fields of every operation, plausible and not, or no JSON at all. */
const adminBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .record(
      {
        name: fc.oneof(
          { weight: 30, arbitrary: fc.oneof(anyText(30), longText, number) },
          { weight: 1, arbitrary: fc.constant('x'.repeat(500_000)) },
        ),
        models: fc.oneof(fc.array(anyText(10), { maxLength: 3 }), number),
        monthlyLimitUsd: fc.oneof(number, fc.constant(null)),
        budgetUsd: fc.oneof(number, fc.constant(null)),
        rpm: fc.oneof(number, fc.constant(null)),
        tpm: number,
        team: fc.oneof(identifier, number, fc.constant(null)),
        expires: fc.oneof(anyText(12), fc.constant('2999-01-01'), fc.constant(null)),
        grace: fc.oneof(fc.constantFrom('1h', '99999999999999999999d', 'x'), number),
        credentials: fc.oneof(fc.array(anyText(8), { maxLength: 3 }), anyText(10), number, fc.constant(null)),
        label: fc.oneof(anyText(12), longText, number),
        priority: number,
        ring: fc.oneof(anyText(80), fc.constant(`a:${'0'.repeat(64)},${'f'.repeat(63)}`), number),
        sync: fc.oneof(fc.boolean(), anyText(4)),
        targets: fc.oneof(fc.array(anyText(12), { maxLength: 3 }), number),
        model: fc.oneof(model, fc.constant('zzfuzz/m')),
        inputPerMTok: number,
        outputPerMTok: number,
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc
    .record(
      {
        // Fuzzed providers never take a name a client request uses, and never a bare-model API type.
        name: fc.oneof(fc.stringMatching(/^zz[a-z0-9]{1,8}$/), longText, anyText(10)),
        type: fc.constantFrom('openai', 'openai-compatible', 'bogus', ''),
        baseUrl: fc.constantFrom('http://127.0.0.1:9/v1', 'ftp://x', 'not a url', 'https://user:pw@x/'),
        models: fc.array(anyText(8), { maxLength: 3 }),
        credential: fc.oneof(
          fc.constant(undefined),
          fc.constant({}),
          fc.record({ secret: anyText(20) }),
          fc.record({ secretArn: anyText(20) }),
          fc.record({ parameterArn: anyText(20) }),
          fc.record({ keyFile: anyText(20) }),
          fc.record({ keyEnv: anyText(12), live: fc.boolean() }),
        ),
        secret: anyText(20),
        keyFile: anyText(20),
        keyEnv: anyText(12),
        parameterArn: anyText(20),
        label: anyText(12),
        priority: number,
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  deepValue.map((d) => `{"name":${deep(d)}}`),
  anyText(30),
);

/**
 * Installation settings only ever fuzzed with values they refuse (or that clear nothing set): a budget or
 * a default price set by the fuzzer would turn the rest of the run's client requests into refusals.
 */
const settingsBody: fc.Arbitrary<string> = fc
  .record(
    {
      budgetUsd: fc.constantFrom(-1, 0, 1e300, 'abc', true, [], null),
      defaultPrice: fc.oneof(
        fc.constantFrom(null, 'x', 0, []),
        fc.record({ inputPerMTok: fc.constantFrom(-1, 1e300, 'x'), outputPerMTok: number }),
      ),
      budgetShards: fc.oneof(number, fc.constant(1e300)),
    },
    { requiredKeys: [] },
  )
  .map((b) => JSON.stringify(b));

/** Queries of the management API's listings: windows, statuses, cursors and page sizes of every kind. */
const adminQuery = fc.oneof(
  fc.constant({}),
  fc.record(
    {
      since: fc.oneof(anyText(12), fc.constantFrom('2026-01-01', '7d', '-1', '99999999999999999999d')),
      until: fc.oneof(anyText(12), fc.constant('2026-01-02')),
      status: fc.oneof(fc.constantFrom('200', '429', '99999', 'x'), anyText(4)),
      cursor: fc.oneof(anyText(40), longText, badEncoding),
      limit: fc.oneof(fc.constantFrom('0', '1', '1000', '1e300', '-5', 'x'), anyText(4)),
      team: identifier,
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(printable(8), anyText(20), { maxKeys: 2 }),
);

/** Requests to the management API: every route of its table, ids of every kind, bodies with bad fields. */
const adminCase: fc.Arbitrary<Case> = fc.constantFrom(...ADMIN_ROUTES).chain((route) =>
  fc
    .record({
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE') },
      ),
      params: fc.array(identifier, { minLength: 3, maxLength: 3 }),
      query: adminQuery,
      token: fc.oneof(
        { weight: 9, arbitrary: fc.constant(ADMIN_TOKEN) },
        { weight: 1, arbitrary: printable(64) },
      ),
      body: route.path === '/settings' ? settingsBody : adminBody,
    })
    .map(({ method, params, query, token, body: b }) => {
      let n = 0;
      const path = route.path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? (params[n++] ?? 'x') : segment))
        .join('/');
      return {
        route: `/admin${route.path}`,
        carrier: 'admin-token',
        method,
        path: `/admin${path}`,
        query: method === 'GET' ? query : {},
        headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': token },
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: b }),
      };
    }),
);

/** Paths that exist nowhere. */
const strayCase: fc.Arbitrary<Case> = fc
  .record({
    path: fc.oneof(identifier, printable(40)),
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'OPTIONS'),
  })
  .map(({ path, method }) => ({
    route: 'stray',
    carrier: 'none',
    method,
    path: `/${path}`,
    query: {},
    headers: {},
  }));

const anyCase = fc.oneof(
  { weight: 14, arbitrary: clientCase },
  { weight: 6, arbitrary: adminCase },
  { weight: 1, arbitrary: strayCase },
);

interface Outcome {
  index: number;
  status: number;
  body: string;
  contentType: string;
}

async function send(c: Case, index: number): Promise<Outcome> {
  const url = new URL(`${gateway.url}${c.path}`);
  for (const [name, value] of Object.entries(c.query)) url.searchParams.set(name, value);
  const response = await fetch(url, {
    method: c.method,
    headers: c.headers,
    ...(c.body === undefined ? {} : { body: c.body }),
  });
  // Streams are read to their end, so an in-band failure is seen too.
  const text = await response.text();
  return {
    index,
    status: response.status,
    body: text,
    contentType: response.headers.get('content-type') ?? '',
  };
}

beforeAll(async () => {
  // Configuration does not change here: compare its version as on AWS, not before every use.
  process.env.TOLLGATE_CONFIG_CHECK_MS = '60000';
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  const openai = await startFakeOpenAI(UPSTREAM.openai);
  const anthropic = await startFakeAnthropic(UPSTREAM.anthropic);
  const gemini = await startFakeGemini(UPSTREAM.gemini);
  fakes.push(openai, anthropic, gemini);
  const providers = env.stores.providers;
  await providers.add(
    { name: 'openai', type: 'openai', baseUrl: openai.baseUrl, models: ['gpt-4o'] },
    { secret: UPSTREAM.openai },
  );
  await providers.add(
    { name: 'anthropic', type: 'anthropic', baseUrl: anthropic.url, models: ['claude-fuzz'] },
    { secret: UPSTREAM.anthropic },
  );
  await providers.add(
    { name: 'gemini', type: 'gemini', baseUrl: gemini.url, models: ['gemini-fuzz'] },
    { secret: UPSTREAM.gemini },
  );
  await providers.setPrice('openai', 'gpt-4o', { inputPerMTok: 1, outputPerMTok: 1 });
  keys.valid = (await env.stores.keys.create({ name: 'fuzz' })).plaintext;
  keys.limited = (
    await env.stores.keys.create({ name: 'fuzz-limited', monthlyLimitMicros: 1, rpm: 5 })
  ).plaintext;
  const revoked = await env.stores.keys.create({ name: 'fuzz-revoked' });
  await env.stores.keys.setStatus(revoked.key.keyId, 'disabled');
  keys.revoked = revoked.plaintext;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 60, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await gateway?.close();
  for (const fake of fakes) await fake.close();
});

describe('fuzzing every route, carrier and management path', () => {
  it(`answers ${CASES} seeded requests without a single 5xx (seed ${SEED})`, {
    timeout: 600_000,
  }, async () => {
    // Prepare
    const cases = fc.sample(anyCase, { seed: SEED, numRuns: CASES });
    const outcomes: Outcome[] = [];
    let next = 0;

    // Act
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const index = next++;
          const c = cases[index] as Case;
          outcomes.push(await send(c, index));
        }
      }),
    );

    // Assess
    const serverErrors = outcomes.filter((o) => o.status >= 500);
    const shown = serverErrors.slice(0, 5).map((o) => ({
      index: o.index,
      status: o.status,
      request: { ...cases[o.index], body: cases[o.index]?.body?.slice(0, 200) },
      answer: o.body.slice(0, 300),
    }));
    expect(shown, `seed ${SEED}: ${serverErrors.length} × 5xx`).toEqual([]);
    const refusals = outcomes.filter((o) => o.status >= 400);
    for (const refusal of refusals) {
      expect(refusal.contentType).toContain('application/json');
      expect(typeof (JSON.parse(refusal.body) as { error?: unknown }).error).toBe('object');
      expect(refusal.body).not.toMatch(/\n\s+at /);
    }
    // Every route, carrier and management collection was exercised, and answered with more than refusals.
    const count = (pick: (c: Case) => string) => {
      const counts = new Map<string, number>();
      for (const c of cases) counts.set(pick(c), (counts.get(pick(c)) ?? 0) + 1);
      return counts;
    };
    const routes = count((c) => c.route);
    for (const route of ROUTES) expect(routes.get(route.path) ?? 0).toBeGreaterThan(100);
    for (const route of ADMIN_ROUTES) expect(routes.get(`/admin${route.path}`) ?? 0).toBeGreaterThan(30);
    const carriers = count((c) => c.carrier);
    for (const carrier of ['none', 'bearer', 'x-api-key', 'x-goog-api-key', 'query', 'admin-token'])
      expect(carriers.get(carrier) ?? 0).toBeGreaterThan(100);
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(500);
  });

  it('leaves every provider healthy: only an upstream may mark one unhealthy', async () => {
    // Act
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
      providers: Array<{ name: string; lastError: unknown }>;
    };

    // Assess
    for (const name of ['openai', 'anthropic', 'gemini'])
      expect(health.providers.find((p) => p.name === name)?.lastError).toBeNull();
  });
});
