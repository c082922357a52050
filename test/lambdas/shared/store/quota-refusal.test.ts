/**
 * A key's 402 says why: a reservation larger than what is left (or than the whole limit) names what the
 * request reserves, what is left and that a lower max_tokens would fit; a limit actually used up says so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '#shared/store/metering.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let counter = 0;

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
});

function request(keyId: string, estimateMicros: number, monthlyLimitMicros: number): AdmissionRequest {
  counter += 1;
  return {
    requestId: `quota-${counter}`,
    keyId,
    limits: { monthlyLimitMicros },
    estimateMicros,
    estimateTokens: 10,
    at: new Date('2026-11-20T10:00:00Z'),
  };
}

describe("a key's monthly-limit refusal", () => {
  it('names the reservation and what is left when a held reservation leaves too little', async () => {
    // Prepare: $0.30 of a $0.50 limit held by a request in flight.
    const meter = env.stores.meter;
    await meter.admit(request('k-room', 300_000, 500_000));

    // Act
    const refused = meter.admit(request('k-room', 480_000, 500_000));

    // Assess
    await expect(refused).rejects.toMatchObject({
      status: 402,
      code: 'api_key_quota_exceeded',
      message:
        "This request reserves $0.48 (its input and max_tokens at the model's price) but $0.2 of this key's monthly limit is left; a lower max_tokens would fit.",
    });
  });

  it('names the whole limit when the reservation exceeds it, and says a used-up limit is reached', async () => {
    // Prepare
    const meter = env.stores.meter;
    const spent = await meter.admit(request('k-used', 500_000, 500_000));
    await meter.settle(spent, 500_000, 10);

    // Act
    const overWhole = meter.admit(request('k-whole', 480_000, 100_000));
    const usedUp = meter.admit(request('k-used', 1_000, 500_000));

    // Assess
    await expect(overWhole).rejects.toThrow(
      "This request reserves $0.48 (its input and max_tokens at the model's price) but this key's whole monthly limit is $0.1; a lower max_tokens would fit.",
    );
    await expect(usedUp).rejects.toThrow("This key's monthly spend limit is reached.");
  });
});
