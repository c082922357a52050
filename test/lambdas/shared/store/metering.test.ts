/**
 * The meter on DynamoDB Local: expired reservations reconciled by the next admission, settlement retried
 * through an outage and applied once, the write units a busy counter costs, and sharded team and
 * installation budgets exact under 200-way concurrency.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import { StorageUnavailableError } from '#shared/errors.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import {
  type AdmissionRequest,
  BUSY_COUNTER_IN_FLIGHT,
  DEFAULT_RESERVATION_TTL_MS,
  Meter,
} from '#shared/store/metering.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { captureStdout } from '../../../helpers/capture-stdout.ts';
import { startCuttableProxy } from '../../../helpers/cuttable-proxy.ts';
import { startDynamoSpy } from '../../../helpers/dynamo-spy.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';
import { countWriteUnits } from '../../../helpers/write-units.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let counter = 0;

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
});

/** A request of `estimateMicros` for a fresh id on `keyId`. */
function request(keyId: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  counter += 1;
  return {
    requestId: `req-${counter}`,
    keyId,
    limits: {},
    estimateMicros: 1000,
    estimateTokens: 10,
    at: new Date(),
    ...extra,
  };
}

/** Settles every admitted request at its estimate; counts admissions and refusals by code. */
async function burst(meter: Meter, requests: AdmissionRequest[]) {
  const results = await Promise.allSettled(requests.map((r) => meter.admit(r)));
  const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const codes = results.flatMap((r) =>
    r.status === 'rejected' ? [(r.reason as { code?: string }).code] : [],
  );
  await Promise.all(admitted.map((a) => meter.settle(a, 1000, 10)));
  return { admitted: admitted.length, codes };
}

describe('reservations that outlive their request', () => {
  it('are billed at their estimate by the next admission of the key once expired', async () => {
    // Prepare: a request admitted and never settled (its instance died).
    const meter = env.stores.meter;
    const start = new Date('2026-11-10T10:00:00Z');
    await meter.admit(request('k-expire', { at: start, estimateMicros: 700 }));
    const early = request('k-expire', { at: new Date(start.getTime() + 60_000), estimateMicros: 100 });
    const late = request('k-expire', {
      at: new Date(start.getTime() + DEFAULT_RESERVATION_TTL_MS + 1),
      estimateMicros: 100,
    });

    // Act: before expiry it stays; after expiry the next admission bills it.
    await meter.settle(await meter.admit(early), 40, 1);
    const before = await meter.monthSpend('key#k-expire', start);
    await meter.settle(await meter.admit(late), 60, 1);
    const after = await meter.monthSpend('key#k-expire', start);

    // Assess
    expect(before).toMatchObject({ spentMicros: 40, reservedMicros: 700 });
    expect(after).toMatchObject({ spentMicros: 40 + 700 + 60, reservedMicros: 0 });
    expect((await meter.keyStats('k-expire')).requests).toBe(3);
  });

  it('retries a settlement through a brief outage and applies it exactly once', async () => {
    // Prepare: a meter whose connection to DynamoDB the test cuts.
    const link = await startCuttableProxy(inject('dynamoEndpoint'));
    const db = leanDocumentDb({ endpoint: link.endpoint, maxAttempts: 1 });
    const meter = new Meter(db, String(process.env[ENV.usageTable]), { settleAttempts: 8, retryBaseMs: 50 });
    const admission = await meter.admit(request('k-retry', { estimateMicros: 500 }));

    // Act: the settlement starts during the outage, which ends while it retries.
    link.cut();
    const settling = meter.settle(admission, 321, 5);
    await new Promise((r) => setTimeout(r, 300));
    link.restore();
    await settling;
    await meter.settle(admission, 321, 5);

    // Assess: applied once, however often it was sent.
    expect(await env.stores.meter.monthSpend('key#k-retry')).toMatchObject({
      spentMicros: 321,
      reservedMicros: 0,
    });
    await link.close();
  });

  it('fails loudly when the outage outlasts the retries, leaving the reservation to reconciliation', async () => {
    const link = await startCuttableProxy(inject('dynamoEndpoint'));
    const db = leanDocumentDb({ endpoint: link.endpoint, maxAttempts: 1 });
    const meter = new Meter(db, String(process.env[ENV.usageTable]), { settleAttempts: 2, retryBaseMs: 10 });
    const admission = await meter.admit(request('k-down', { estimateMicros: 500 }));
    link.cut();
    await expect(meter.settle(admission, 100, 1)).rejects.toThrow(/billed at the estimate/);
    link.restore();
    expect(await env.stores.meter.monthSpend('key#k-down')).toMatchObject({ reservedMicros: 500 });
    expect(await env.stores.meter.sweep(new Date(Date.now() + DEFAULT_RESERVATION_TTL_MS + 1))).toBe(1);
    expect(await env.stores.meter.monthSpend('key#k-down')).toMatchObject({
      spentMicros: 500,
      reservedMicros: 0,
    });
    await link.close();
  });
});

describe('an admission whose answer was lost', () => {
  it('is reserved once although the SDK sends it twice, and settled once likewise', async () => {
    // Prepare: the first answer never arrives, so the SDK retries an update DynamoDB already applied.
    const link = await startCuttableProxy(inject('dynamoEndpoint'));
    const db = leanDocumentDb({ endpoint: link.endpoint });
    const meter = new Meter(db, String(process.env[ENV.usageTable]));

    // Act
    link.loseNextAnswer();
    const admission = await meter.admit(request('k-lost-answer', { estimateMicros: 800 }));
    const held = await env.stores.meter.monthSpend('key#k-lost-answer');
    link.loseNextAnswer();
    await meter.settle(admission, 300, 1);

    // Assess: one reservation, not two, and one settlement: nothing left reserved, the cost counted once.
    expect(held).toMatchObject({ reservedMicros: 800, spentMicros: 0 });
    expect(await env.stores.meter.monthSpend('key#k-lost-answer')).toMatchObject({
      reservedMicros: 0,
      spentMicros: 300,
    });
    await link.close();
  });
});

describe('a receipt left by an earlier admission of the same request', () => {
  it('is not taken for this admission when it holds another amount: storage is unavailable (503)', async () => {
    // Prepare: the request's first admission (its release failed, so its receipt stays).
    const at = new Date();
    const first = request('k-left-receipt', { at, estimateMicros: 800 });
    await env.stores.meter.admit(first);

    // Act: admitted again in the same second with another estimate (new scope or prices).
    const again = env.stores.meter.admit({ ...first, estimateMicros: 900 });

    // Assess: refused, and the first reservation is the only one held.
    await expect(again).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(await env.stores.meter.monthSpend('key#k-left-receipt', at)).toMatchObject({
      reservedMicros: 800,
    });
  });
});

describe('a counter with many requests in flight', () => {
  it('costs 4 write units a write with 100 reservations open on it (the earlier receipts cost 7)', async () => {
    // Prepare: 100 requests of one key in flight, as API Gateway names them.
    const { db, count } = countWriteUnits();
    const meter = new Meter(db, String(process.env[ENV.usageTable]));
    const admit = () => meter.admit(request('k-busy', { requestId: randomUUID(), estimateMicros: 123_456 }));
    for (let i = 0; i < 100; i++) await admit();
    count.units = 0;

    // Act: one more request, admitted and settled.
    await meter.settle(await admit(), 1000, 10);

    // Assess: DynamoDB bills a write by the item's size, 1 unit per KB, and each receipt is on the item.
    expect(count.units).toBe(8);
  });

  it('warns once a minute when a counter holds enough requests in flight that a write costs 2 units', async () => {
    // Prepare: 25 requests of one team in flight, on its one counter.
    const meter = new Meter(documentClient(), String(process.env[ENV.usageTable]));
    const limits = { teamBudgetMicros: 1e12 };
    const at = new Date();
    const admit = (i: number) =>
      meter.admit(request(`k-busy-team-${i % 3}`, { teamId: 'busy', limits, at, requestId: randomUUID() }));
    for (let i = 0; i < BUSY_COUNTER_IN_FLIGHT - 1; i++) await admit(i);

    // Act: the 26th, then a 27th in the same minute.
    const capture = captureStdout(process.stderr);
    await admit(26);
    await admit(27);
    capture.restore();

    // Assess: one line, naming the team's counter and how to split it.
    const busy = capture.lines.filter((line) => line.includes('counter busy'));
    expect(busy).toHaveLength(1);
    expect(JSON.parse(busy[0] ?? '{}')).toMatchObject({
      level: 'WARN',
      counter: 'team#busy',
      inFlight: BUSY_COUNTER_IN_FLIGHT,
      writeUnitsPerWrite: 2,
      split: expect.stringContaining('tollgate teams shards'),
    });
  });

  it('bills a receipt of the earlier format when it expires, so an upgrade strands no reservation', async () => {
    // Prepare: a reservation filed before the receipt format changed, never settled.
    const requestId = randomUUID();
    const month = new Date().toISOString().slice(0, 7);
    const db = documentClient();
    await db.send(
      new PutCommand({
        TableName: String(process.env[ENV.usageTable]),
        Item: {
          pk: 'key#k-legacy',
          sk: `month#${month}`,
          month,
          spr: 900,
          reservedMicros: 900,
          [`r_${requestId}`]: { x: Date.now(), m: 900, t: 0 },
        },
      }),
    );

    db.destroy();

    // Act
    const reconciled = await env.stores.meter.sweep(new Date(Date.now() + 1000));

    // Assess
    expect(reconciled).toBeGreaterThanOrEqual(1);
    expect(await env.stores.meter.monthSpend('key#k-legacy')).toMatchObject({
      spentMicros: 900,
      reservedMicros: 0,
    });
  });
});

describe('sharded budgets under concurrency', { timeout: 120_000 }, () => {
  const SHARDS = { count: 8, previous: 8, from: '2000-01' };

  it('admits exactly what a team budget split over 8 shards allows, across 200 concurrent requests', async () => {
    // Prepare: room for 40 requests of 1000 µUSD, split 5001 ×7 + 5000.
    const limits = { teamBudgetMicros: 40 * 1000 + 7, teamShards: SHARDS };
    const requests = Array.from({ length: 200 }, (_, i) =>
      request(`k-team-${i % 5}`, { teamId: 'sharded', limits }),
    );

    // Act
    const { admitted, codes } = await burst(env.stores.meter, requests);

    // Assess: no overshoot, no stranded room big enough for a request.
    expect(admitted).toBe(40);
    expect(new Set(codes)).toEqual(new Set(['billing_shortfall']));
    const spend = await env.stores.meter.monthSpend('team#sharded', new Date(), 8);
    expect(spend).toEqual(expect.objectContaining({ spentMicros: 40 * 1000, reservedMicros: 0 }));
  });

  it('admits and reads a team budget over the most shards, 100, across 200 concurrent requests', async () => {
    // Prepare: room for 150 requests of 1000 µUSD, 1,500 per shard; a month read in one BatchGetItem.
    const hundred = { count: 100, previous: 100, from: '2000-01' };
    const limits = { teamBudgetMicros: 150 * 1000, teamShards: hundred };
    const requests = Array.from({ length: 200 }, (_, i) =>
      request(`k-wide-${i % 5}`, { teamId: 'widest', limits }),
    );

    // Act
    const { admitted, codes } = await burst(env.stores.meter, requests);
    const spend = await env.stores.meter.monthSpend('team#widest', new Date(), 100);

    // Assess: one request per shard fits (1,500 ≥ 1,000, 2 × 1,000 > 1,500), and the read sums all 100.
    expect(admitted).toBe(100);
    expect(new Set(codes)).toEqual(new Set(['billing_shortfall']));
    expect(spend).toEqual(expect.objectContaining({ spentMicros: 100 * 1000, reservedMicros: 0 }));

    // Act: one more request, on an instance that has seen no refusal yet.
    const spy = await startDynamoSpy(inject('dynamoEndpoint'));
    const db = leanDocumentDb({ endpoint: spy.endpoint });
    const fresh = new Meter(db, String(process.env[ENV.usageTable]));
    const refused = fresh.admit(request('k-wide-late', { teamId: 'widest', limits }));

    // Assess: refused after one team write (its random shard) and one read of the other 99, not a write
    // on each of the 100; the key's own reservation and its release are the other two writes.
    await expect(refused).rejects.toMatchObject({ code: 'billing_shortfall' });
    expect({ writes: spy.count('UpdateItem'), reads: spy.count('BatchGetItem') }).toEqual({
      writes: 3,
      reads: 1,
    });

    // And the next refusal within the second costs that instance no team write and no read: the shards
    // the read showed full are remembered as if they had refused.
    await expect(fresh.admit(request('k-wide-late', { teamId: 'widest', limits }))).rejects.toMatchObject({
      code: 'billing_shortfall',
    });
    expect({ writes: spy.count('UpdateItem'), reads: spy.count('BatchGetItem') }).toEqual({
      writes: 5,
      reads: 1,
    });
    await spy.close();
  });

  it('bounds an installation budget over 4 shards, refusing with billing_shortfall', async () => {
    const installation = { budgetMicros: 30 * 1000 + 3, shards: { count: 4, previous: 4, from: '2000-01' } };
    const requests = Array.from({ length: 200 }, (_, i) => request(`k-install-${i % 7}`, { installation }));
    const { admitted, codes } = await burst(env.stores.meter, requests);
    // 7500 + 7501 × 3 per shard: 7 requests each.
    expect(admitted).toBe(28);
    expect(new Set(codes)).toEqual(new Set(['billing_shortfall']));
    const spend = await env.stores.meter.monthSpend('install', new Date(), 4);
    expect(spend.spentMicros).toBeLessThanOrEqual(installation.budgetMicros);
    expect(spend.spentMicros).toBeGreaterThan(installation.budgetMicros - 4 * 1000);
  });

  it('keeps a running month on the split it started with when the shard count changes', async () => {
    // A change to 8 shards from next month: this month stays on 1 shard, so 3 of 200 fit in 3000 µUSD.
    const limits = { teamBudgetMicros: 3000, teamShards: { count: 8, previous: 1, from: '2999-01' } };
    const requests = Array.from({ length: 200 }, () => request('k-pending', { teamId: 'pending', limits }));
    const { admitted } = await burst(env.stores.meter, requests);
    expect(admitted).toBe(3);
  });
});
