/**
 * Settlement writes three different items at once — the counters, the day's usage, the request log — so
 * one failing write loses nothing the others record, and a failure is counted, never silent.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyRuntime } from '#shared/proxy/context.ts';
import { settler } from '#shared/proxy/settlement.ts';
import type { RequestLogEntry } from '#shared/store/request-log.ts';

/** A runtime whose stores record what they were asked to write; `failing` names the one that refuses. */
function runtime(failing: 'meter' | 'none') {
  const logged: RequestLogEntry[] = [];
  const recorded: string[] = [];
  const counted = { failures: 0, upstream: 0 };
  const rt = {
    now: () => 2_000,
    deps: {
      meter: {
        settle: async () => {
          if (failing === 'meter') throw new Error('storage unavailable');
        },
      },
      usage: {
        record: async ({ keyId, model }: { keyId: string; model: string }) => {
          recorded.push(`${keyId} ${model}`);
        },
      },
      requestLog: {
        put: async (entry: RequestLogEntry) => {
          logged.push(entry);
        },
      },
      metrics: {
        upstream: () => {
          counted.upstream += 1;
        },
        settlementFailed: () => {
          counted.failures += 1;
        },
      },
    },
  } as unknown as ProxyRuntime;
  return { rt, logged, recorded, counted };
}

const call = {
  req: { requestId: 'req-settle', method: 'POST' },
  route: { path: '/v1/chat/completions' },
} as Parameters<typeof settler>[1];
const admission = {
  requestId: 'req-settle',
  keyId: 'key-1',
  teamId: undefined,
  month: '2026-12',
  minute: 0,
  counters: [],
};
const ending = {
  status: 200,
  slug: { provider: 'openai', model: 'm' },
  price: { inputPerMTok: 1, outputPerMTok: 2 },
  usage: { inputTokens: 10, outputTokens: 5 },
};

describe('settlement', () => {
  it('still logs the request, its usage and its upstream metrics when the counters cannot be written, and counts the failure', async () => {
    // Prepare
    const { rt, logged, recorded, counted } = runtime('meter');

    // Act
    await settler(rt, call, admission, 1_000)(ending);

    // Assess
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ requestId: 'req-settle', keyId: 'key-1', status: 200, costMicros: 20 });
    expect(recorded).toEqual(['key-1 openai/m']);
    expect(counted).toEqual({ failures: 1, upstream: 1 });
  });

  it('writes everything once, however often it is called', async () => {
    // Prepare
    const { rt, logged, recorded, counted } = runtime('none');
    const settle = settler(rt, call, admission, 1_000);

    // Act
    await Promise.all([settle(ending), settle(ending)]);
    await settle({ status: 499 });

    // Assess
    expect(logged.map((e) => e.status)).toEqual([200]);
    expect(recorded).toHaveLength(1);
    expect(counted).toEqual({ failures: 0, upstream: 1 });
  });
});
