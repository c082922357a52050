/** Cost arithmetic: estimates for admission, bills for settlement, in integer micro-USD. */
import { describe, expect, it } from 'vitest';
import { costMicros, estimateInputTokens, microsToUsd, requestedOutputCap } from '#shared/proxy/estimate.ts';

describe('estimateInputTokens', () => {
  it('counts about four bytes of UTF-8 per token, rounding up', () => {
    expect(estimateInputTokens(undefined)).toBe(0);
    expect(estimateInputTokens('abcd')).toBe(1);
    expect(estimateInputTokens('abcde')).toBe(2);
    expect(estimateInputTokens('é'.repeat(4))).toBe(2);
  });
});

describe('requestedOutputCap', () => {
  it("reads each API's spelling of the output cap", () => {
    expect(requestedOutputCap({ max_tokens: 100 })).toBe(100);
    expect(requestedOutputCap({ max_completion_tokens: 200 })).toBe(200);
    expect(requestedOutputCap({ max_output_tokens: 300 })).toBe(300);
    expect(requestedOutputCap({ generationConfig: { maxOutputTokens: 400 } })).toBe(400);
  });

  it('ignores what is not a finite, non-negative number, and rounds up fractions', () => {
    expect(requestedOutputCap({})).toBeUndefined();
    expect(requestedOutputCap({ max_tokens: '100' })).toBeUndefined();
    expect(requestedOutputCap({ max_tokens: -1, max_output_tokens: 7.2 })).toBe(8);
  });
});

describe('costMicros', () => {
  it('bills ceil(tokens × USD per million tokens) micro-USD', () => {
    // Prepare
    const price = { inputPerMTok: 2.5, outputPerMTok: 10 };

    // Act
    const micros = costMicros({ inputTokens: 1001, outputTokens: 3 }, price);

    // Assess
    expect(micros).toBe(Math.ceil(1001 * 2.5 + 3 * 10));
  });

  it('charges nothing for a model without a price', () => {
    expect(costMicros({ inputTokens: 1000, outputTokens: 1000 }, undefined)).toBe(0);
  });
});

describe('microsToUsd', () => {
  it('converts whole micros to dollars', () => {
    expect(microsToUsd(1_234_567)).toBe(1.234567);
    expect(microsToUsd(0.6)).toBe(0.000001);
  });
});
