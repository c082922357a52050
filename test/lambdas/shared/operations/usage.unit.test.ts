/** The request summaries' arithmetic and the checks of a listing's query. */
import { describe, expect, it } from 'vitest';
import { InvalidError } from '#shared/operations/errors.ts';
import { checkInput } from '#shared/operations/schema.ts';
import { percentile, requestQuery, requestQueryShape, summarize } from '#shared/operations/usage.ts';
import type { RequestLogEntry } from '#shared/store/request-log.ts';

const entry = (status: number, ttfbMs: number | undefined, costMicros = 0): RequestLogEntry => ({
  requestId: `r${status}-${ttfbMs}`,
  keyId: 'AbC123xyZ789',
  route: 'POST /v1/messages',
  status,
  inputTokens: 2,
  outputTokens: 3,
  costMicros,
  ...(ttfbMs === undefined ? {} : { ttfbMs }),
  durationMs: 10,
  disconnected: false,
  at: '2026-11-24T06:00:00.000Z',
});

describe('percentile', () => {
  it('is the nearest rank, and null for no values', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 100)).toBe(20);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('summarize', () => {
  it('counts by status and takes TTFB only from requests that had a first byte', () => {
    const s = summarize([
      entry(200, 30, 1_500_000),
      entry(200, 10, 500_000),
      entry(429, undefined),
      entry(402, undefined),
    ]);
    expect(s).toEqual({
      requests: 4,
      byStatus: { '200': 2, '402': 1, '429': 1 },
      inputTokens: 8,
      outputTokens: 12,
      costUsd: 2,
      ttfbP50Ms: 10,
      ttfbP95Ms: 30,
      truncated: false,
    });
  });
});

describe("a listing's query", () => {
  it('takes ISO times, a status, a page size up to 1,000 and a cursor; refuses the rest naming the field', () => {
    expect(
      requestQuery(checkInput(requestQueryShape, { since: '2026-11-01', status: '429', limit: '5' })),
    ).toEqual({
      since: '2026-11-01T00:00:00.000Z',
      until: undefined,
      status: 429,
      limit: 5,
      cursor: undefined,
    });
    expect(requestQuery(checkInput(requestQueryShape, {})).limit).toBe(100);
    const refusals = [
      { limit: '1001' },
      { limit: '0' },
      { status: '99' },
      { status: 'teapot' },
      { since: 'last tuesday' },
      { since: '2026-11-02', until: '2026-11-01' },
      { page: '2' },
    ].map((raw) => {
      try {
        requestQuery(checkInput(requestQueryShape, raw));
        return undefined;
      } catch (err) {
        return err instanceof InvalidError ? err.field : err;
      }
    });
    expect(refusals).toEqual(['limit', 'limit', 'status', 'status', 'since', 'since', 'page']);
  });
});
