/**
 * Expired reservations that no admission touches any more, billed at their estimate by the one operation
 * behind `tollgate reservations reconcile`, `POST /admin/reservations/reconcile` and the admin function's
 * hourly EventBridge schedule (its real handler, invoked as the rule invokes it), on DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_RESERVATION_TTL_MS, type Meter } from '#shared/store/metering.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { localContext } from '../../lib/local/lambda-runtime.ts';
import { runCli } from '../helpers/run-cli.ts';

const TOKEN = 'c'.repeat(64);
const ESTIMATE = 4321;
let meter: Meter;
let gateway: RunningGateway;

beforeAll(async () => {
  const { setupLocalEnv, shareWithCli } = await import('../helpers/local-env.ts');
  const env = await setupLocalEnv();
  shareWithCli(env.state, inject('dynamoEndpoint'));
  meter = env.stores.meter;
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0, adminToken: TOKEN });
});

afterAll(async () => {
  await gateway?.close();
});

/** A request admitted long enough ago that its reservation has expired, and never settled. */
async function abandoned(keyId: string): Promise<void> {
  await meter.admit({
    requestId: `abandoned-${keyId}`,
    keyId,
    limits: {},
    estimateMicros: ESTIMATE,
    estimateTokens: 10,
    at: new Date(Date.now() - DEFAULT_RESERVATION_TTL_MS - 60_000),
  });
}

const spend = (keyId: string) =>
  meter.monthSpend(`key#${keyId}`, new Date(Date.now() - DEFAULT_RESERVATION_TTL_MS - 60_000));

describe('reconciling reservations', () => {
  it('bills an expired reservation once, from the CLI, the management API or the schedule', async () => {
    // Prepare
    await abandoned('by-cli');

    // Act
    const cli = await runCli('reservations', 'reconcile', '--json');
    await abandoned('by-schedule');
    const { handler } = (await import('../../lambdas/admin/handler.ts')) as unknown as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const scheduled = await handler(
      {
        version: '0',
        id: 'e1',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '111122223333',
        time: new Date().toISOString(),
        region: 'eu-west-1',
        resources: ['arn:aws:events:eu-west-1:111122223333:rule/tollgate-reconcile'],
        detail: {},
      },
      localContext('tollgate-admin', 'schedule-1'),
    );
    const api = await fetch(`${gateway.url}/admin/reservations/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': TOKEN },
      body: '{}',
    });

    // Assess: each reconciled exactly what had expired since the last; nothing is reserved afterwards.
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ reconciled: 1 });
    expect(scheduled).toEqual({ reconciled: 1 });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ reconciled: 0 });
    for (const keyId of ['by-cli', 'by-schedule'])
      expect(await spend(keyId)).toMatchObject({ spentMicros: ESTIMATE, reservedMicros: 0 });
  });
});
