/**
 * `GET /v1/analytics` on a gateway whose operator did not turn it on: the route does not exist (404 in the
 * OpenAI shape, no figures), while the public provider statistics still answer. A file of its own, since
 * the handlers read the setting once, when their modules load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';

let gateway: RunningGateway;

beforeAll(async () => {
  delete process.env.TOLLGATE_PUBLIC_ANALYTICS;
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  await setupLocalEnv();
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
});

afterAll(async () => {
  await gateway?.close();
});

describe('GET /v1/analytics, not turned on', () => {
  it('answers 404 with no figures, and the provider statistics still answer', async () => {
    // Act
    const analytics = await fetch(`${gateway.url}/v1/analytics`);
    const body = (await analytics.json()) as { error?: { code?: string } };
    const stats = await fetch(`${gateway.url}/v1/stats/providers`);

    // Assess
    expect(analytics.status).toBe(404);
    expect(body.error?.code).toBeDefined();
    expect(JSON.stringify(body)).not.toMatch(/requests|byProvider|lastDay/);
    expect(stats.status).toBe(200);
  });
});
