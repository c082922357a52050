/** The metering errors a client sees: their status, code and rate-limit headers, in each API's shape. */
import { describe, expect, it } from 'vitest';
import { BillingShortfallError, KeyQuotaExceededError, RateLimitedError } from '#shared/store/metering.ts';

describe('RateLimitedError', () => {
  it('is a 429 that tells the client when to retry, in the headers every SDK reads', () => {
    // Act
    const error = new RateLimitedError(60, 17);

    // Assess
    expect(error.status).toBe(429);
    expect(error.headers).toEqual({
      'retry-after': '17',
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '17',
    });
  });
});

describe('spend limits', () => {
  it("are 402s that tell a key's limit from its team's budget, as each API names quota errors", () => {
    // Prepare
    const key = new KeyQuotaExceededError();
    const team = new BillingShortfallError();

    // Assess
    expect([key.status, team.status]).toEqual([402, 402]);
    expect([key.code, team.code]).toEqual(['api_key_quota_exceeded', 'billing_shortfall']);
    expect(key.toWire('openai')).toMatchObject({ error: { type: 'insufficient_quota' } });
    expect(team.toWire('anthropic')).toMatchObject({ error: { type: 'billing_error' } });
    expect(key.toWire('gemini')).toMatchObject({ error: { code: 402, status: 'RESOURCE_EXHAUSTED' } });
  });
});
