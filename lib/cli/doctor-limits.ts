/** Doctor's checks of key governance: a spend limit gives 402, a rate limit 429, a disabled key 401. */
import type { CheckContext } from './doctor-checks.ts';
import { FAMILIES } from './doctor-families.ts';
import { request } from './doctor-http.ts';
import { type CheckResult, fail, pass } from './doctor-report.ts';

const chat = (ctx: CheckContext, key: string) =>
  request(`${ctx.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}` },
    body: FAMILIES.openai.body(ctx.fixture.slug, 'limits', false),
  });

const codeOf = (body: unknown): unknown => (body as { error?: { code?: unknown } } | undefined)?.error?.code;

/** A key with a one-micro-dollar limit is refused with 402 before any answer. */
export async function spendLimitCheck(ctx: CheckContext): Promise<CheckResult> {
  const answer = await chat(ctx, ctx.fixture.keys.tiny);
  return answer.status === 402 && codeOf(answer.json) === 'api_key_quota_exceeded'
    ? pass('limit-402', "402 api_key_quota_exceeded for a key whose limit is below one request's cost")
    : fail(
        'limit-402',
        `${answer.status} ${answer.text.slice(0, 120)}`,
        "monthly limits are not enforced: the authorizer must pass the key's limits to the proxy (check the authorizer context and the usage table)",
      );
}

/** A key with RPM 1 gets 429 with Retry-After on its second request of a minute. */
export async function rateLimitCheck(ctx: CheckContext): Promise<CheckResult> {
  const first = await chat(ctx, ctx.fixture.keys.rpm1);
  let second = await chat(ctx, ctx.fixture.keys.rpm1);
  // The first two may straddle a minute boundary; a third then falls in the second's minute.
  if (first.status === 200 && second.status === 200) second = await chat(ctx, ctx.fixture.keys.rpm1);
  const retryAfter = Number(second.headers.get('retry-after'));
  if (first.status === 200 && second.status === 429 && Number.isInteger(retryAfter) && retryAfter > 0) {
    return pass('rate-429', `429 with Retry-After: ${retryAfter} on the second request of a minute`);
  }
  return fail(
    'rate-429',
    `first ${first.status}, then ${second.status}${second.status === 429 ? ` with Retry-After ${second.headers.get('retry-after') ?? 'missing'}` : ''}`,
    "per-key RPM is not enforced: the authorizer must pass the key's limits to the proxy, and 429s must carry Retry-After",
  );
}

/** A key disabled after a successful request is refused on its very next request. */
export async function disabledKeyCheck(ctx: CheckContext): Promise<CheckResult> {
  const before = await chat(ctx, ctx.fixture.keys.revoked);
  if (before.status !== 200)
    return fail(
      'disabled-401',
      `the key was refused before it was disabled (${before.status})`,
      'see the checks above',
    );
  await ctx.stores.keys.setStatus(ctx.fixture.keyIds.revoked, 'disabled');
  const after = await chat(ctx, ctx.fixture.keys.revoked);
  if (after.status === 401) return pass('disabled-401', 'a disabled key got 401 on its next request');
  // Measure how long the refusal takes: the authorizer cache is the usual suspect.
  const ttl = ctx.authorizerCacheTtlSeconds;
  let later = after.status;
  if (ttl !== undefined) {
    await ctx.sleep((ttl + 1) * 1000);
    later = (await chat(ctx, ctx.fixture.keys.revoked)).status;
  }
  return fail(
    'disabled-401',
    `next request ${after.status}${ttl === undefined ? '' : `; ${later} after the authorizer cache TTL (${ttl} s)`}`,
    'the proxy must re-check the key on every request (admission), whatever the authorizer cache holds',
  );
}
