/**
 * The checks `tollgate doctor` runs against a gateway's HTTP API with its temporary echo provider and keys:
 * what it serves without a key, how it refuses keys, answers whole and streamed, and limits. Each check
 * measures, judges and says what to fix; none throws for a failure of the gateway.
 */
import type { Stores } from './context.ts';
import { callUrl, FAMILIES, type Family } from './doctor-families.ts';
import type { DoctorFixture } from './doctor-fixture.ts';
import { type Answer, readStream, request } from './doctor-http.ts';
import { type CheckResult, fail, pass } from './doctor-report.ts';

/** What the checks work with. */
export interface CheckContext {
  url: string;
  fixture: DoctorFixture;
  stores: Stores;
  /** The API version this CLI was built with. */
  apiVersion: string;
  /** The authorizer result cache TTL of the target, when known. */
  authorizerCacheTtlSeconds: number | undefined;
  /** Longest wait for configuration the gateway caches (providers and prices). */
  configWaitMs: number;
  sleep(ms: number): Promise<void>;
}

const ms = (n: number): string => `${Math.round(n)} ms`;
const instruction = (echo: Record<string, number>): string => JSON.stringify({ echo });

async function call(ctx: CheckContext, family: Family, key: string, text: string): Promise<Answer> {
  const spec = FAMILIES[family];
  const carrier = Object.values(spec.carriers)[0];
  const way = carrier?.(key) ?? { headers: {} };
  return request(callUrl(ctx.url, spec.path(ctx.fixture.slug, false), way.query), {
    headers: way.headers,
    body: spec.body(ctx.fixture.slug, text, false),
  });
}

/** `/health`, `/openapi.json` and `/docs` answer without a key; the API version matches this CLI's. */
export async function endpointChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const health = await request(`${ctx.url}/health`);
  const status = (health.json as { status?: unknown } | undefined)?.status;
  results.push(
    health.status === 200 && status === 'ok'
      ? pass('health', `200 {status: ok} in ${ms(health.ms)}`)
      : fail(
          'health',
          `${health.status} ${health.text.slice(0, 120)}`,
          "see the proxy function's logs: /health reads the providers table",
        ),
  );
  const openapi = await request(`${ctx.url}/openapi.json`);
  const version = (openapi.json as { info?: { version?: unknown } } | undefined)?.info?.version;
  results.push(
    openapi.status === 200 && typeof version === 'string'
      ? pass('openapi', `200, OpenAPI document of API ${version} in ${ms(openapi.ms)}`)
      : fail(
          'openapi',
          `${openapi.status}, no OpenAPI document`,
          'redeploy: the /openapi.json route is missing',
        ),
  );
  const docs = await request(`${ctx.url}/docs`);
  results.push(
    docs.status === 200 && (docs.headers.get('content-type') ?? '').startsWith('text/html')
      ? pass('docs', `200 text/html in ${ms(docs.ms)}`)
      : fail(
          'docs',
          `${docs.status} ${docs.headers.get('content-type') ?? ''}`,
          'redeploy: the /docs route is missing',
        ),
  );
  results.push(
    version === ctx.apiVersion
      ? pass('version', `gateway and CLI both speak API ${ctx.apiVersion}`)
      : fail(
          'version',
          `gateway API ${String(version)}, CLI API ${ctx.apiVersion}`,
          'deploy the stack from the same Tollgate version as this CLI (npx cdk deploy)',
        ),
  );
  return results;
}

/** Every family refuses a missing and an unknown key, in every carrier, with the documented 401 body. */
export async function refusalChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const unknownKey = `${ctx.fixture.keys.main.slice(0, -6)}000000`;
  const results: CheckResult[] = [];
  for (const [family, spec] of Object.entries(FAMILIES) as Array<[Family, (typeof FAMILIES)[Family]]>) {
    const problems: string[] = [];
    let tried = 0;
    const attempts: Array<[string, { headers: Record<string, string>; query?: string }]> = [
      ['no key', { headers: family === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {} }],
      ...Object.entries(spec.carriers).map(
        ([name, carrier]) =>
          [`unknown key in ${name}`, carrier(unknownKey)] as [string, ReturnType<typeof carrier>],
      ),
    ];
    for (const [label, way] of attempts) {
      tried += 1;
      const answer = await request(callUrl(ctx.url, spec.path(ctx.fixture.slug, false), way.query), {
        headers: way.headers,
        body: spec.body(ctx.fixture.slug, 'refuse me', false),
      });
      const problem = answer.status !== 401 ? `status ${answer.status}` : spec.refusalProblem(answer.json);
      if (problem !== undefined) problems.push(`${label}: ${problem}`);
    }
    results.push(
      problems.length === 0
        ? pass(`refusal-${family}`, `${tried}/${tried} refusals are 401 in the ${family} error shape`)
        : fail(
            `refusal-${family}`,
            problems.join('; '),
            "the API's gateway responses (UNAUTHORIZED, ACCESS_DENIED) must carry the documented 401 body: redeploy the stack",
          ),
    );
  }
  return results;
}

/** The request-log entry of an answer, read with the key that made it. */
async function logged(
  ctx: CheckContext,
  key: string,
  answer: Answer,
): Promise<Record<string, unknown> | undefined> {
  const requestId = answer.headers.get('x-request-id');
  if (requestId === null) return undefined;
  const entry = await request(`${ctx.url}/v1/usage?request_id=${encodeURIComponent(requestId)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return entry.status === 200 ? (entry.json as Record<string, unknown>) : undefined;
}

/**
 * A whole answer on each family, settled and logged at the model's price. The first call waits, within
 * `configWaitMs`, for a gateway that caches its provider list to see the new provider and price.
 */
export async function answerChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const text = 'doctor says hello';
  const started = Date.now();
  let answer: Answer;
  let entry: Record<string, unknown> | undefined;
  for (;;) {
    answer = await call(ctx, 'openai', ctx.fixture.keys.main, text);
    entry = answer.status === 200 ? await logged(ctx, ctx.fixture.keys.main, answer) : undefined;
    const priced = typeof entry?.costUsd === 'number' && entry.costUsd > 0;
    if (priced || Date.now() - started >= ctx.configWaitMs) break;
    await ctx.sleep(2000);
  }
  const waited = Date.now() - started;
  const results: CheckResult[] = [];
  const got = FAMILIES.openai.textOf(answer.json);
  const tokens = Number(entry?.inputTokens ?? 0) + Number(entry?.outputTokens ?? 0);
  // `/v1/usage` answers in USD (README, "Field names"); the fixture's price makes a token one µUSD.
  const costMicros = Math.round(Number(entry?.costUsd ?? Number.NaN) * 1_000_000);
  if (answer.status !== 200 || got !== text) {
    results.push(
      fail(
        'answer',
        `${answer.status} ${answer.text.slice(0, 160)}`,
        "see the proxy function's logs for this request id",
      ),
    );
  } else if (entry === undefined || costMicros !== tokens || entry.outputTokens !== 3) {
    results.push(
      fail(
        'answer',
        `answered, but the request log has ${entry === undefined ? 'no entry' : `${String(entry.outputTokens)} output tokens costing ${String(costMicros)} µUSD`} after ${ms(waited)}`,
        'settlement did not record the priced usage: check the usage and request-log tables and the provider cache (TOLLGATE_CREDENTIAL_CACHE_SECONDS)',
      ),
    );
  } else {
    results.push(
      pass(
        'answer',
        `whole answer in ${ms(answer.ms)}; logged ${tokens} tokens at ${tokens} µUSD${waited > 2500 ? ` (provider visible after ${ms(waited)})` : ''}`,
      ),
    );
  }
  for (const family of ['anthropic', 'gemini'] as const) {
    const other = await call(ctx, family, ctx.fixture.keys.main, text);
    results.push(
      other.status === 200 && FAMILIES[family].textOf(other.json) === text
        ? pass(`answer-${family}`, `whole ${family} answer in ${ms(other.ms)}`)
        : fail(
            `answer-${family}`,
            `${other.status} ${other.text.slice(0, 160)}`,
            `the ${family} routes do not reach the proxy: redeploy the stack`,
          ),
    );
  }
  return results;
}

/** Content-bearing events of a chat-completions stream. */
function contentEvents(events: Array<{ data: string; at: number; read: number }>) {
  return events.filter((e) => {
    if (e.data === '[DONE]') return false;
    try {
      const content = (JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: unknown } }> })
        .choices?.[0]?.delta?.content;
      return typeof content === 'string' && content !== '';
    } catch {
      return false;
    }
  });
}

/** A streamed answer of `events` events `gapMs` apart arrives as that many events, each in its own read. */
export async function streamCheck(
  ctx: CheckContext,
  shape: { id: string; events: number; gapMs: number; minLastMs?: number },
): Promise<CheckResult> {
  const arrival = await readStream(`${ctx.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${ctx.fixture.keys.main}` },
    body: FAMILIES.openai.body(
      ctx.fixture.slug,
      instruction({ events: shape.events, gapMs: shape.gapMs, eventBytes: 24 }),
      true,
    ),
  });
  if (arrival.status !== 200 || arrival.events.length === 0) {
    return fail(
      shape.id,
      `${arrival.status} ${arrival.text.slice(0, 160)}`,
      "see the proxy function's logs for this request",
    );
  }
  const content = contentEvents(arrival.events);
  const done = arrival.events.at(-1)?.data === '[DONE]';
  const gaps = content.slice(1).map((e, i) => e.at - (content[i]?.at ?? 0));
  const perRead = new Map<number, number>();
  for (const e of content) perRead.set(e.read, (perRead.get(e.read) ?? 0) + 1);
  const maxPerRead = Math.max(0, ...perRead.values());
  const last = content.at(-1)?.at ?? 0;
  const figure =
    `${content.length}/${shape.events} events in ${perRead.size} reads (max ${maxPerRead} per read); ` +
    `first after ${ms(content[0]?.at ?? 0)}, gaps ${ms(Math.min(...gaps, Infinity) === Infinity ? 0 : Math.min(...gaps))}–${ms(Math.max(0, ...gaps))}, last after ${ms(last)}`;
  if (content.length !== shape.events || !done) {
    return fail(
      shape.id,
      `${figure}; ${done ? '' : 'no [DONE]: '}stream cut`,
      "the stream was cut: the proxy must use response streaming (InvokeMode RESPONSE_STREAM) and a timeout above the answer's length",
    );
  }
  if (maxPerRead > 1 || (gaps.length > 0 && Math.min(...gaps) < shape.gapMs / 2)) {
    return fail(
      shape.id,
      figure,
      'events are held back and sent together: something between the proxy and the client buffers (response streaming off, a CDN or proxy without streaming)',
    );
  }
  if (shape.minLastMs !== undefined && last < shape.minLastMs) {
    return fail(shape.id, figure, 'the answer ended too early');
  }
  return pass(shape.id, figure);
}
