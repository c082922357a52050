/**
 * The management API through the local gateway: the CLI's operations over HTTP on the same stores, closed
 * without the admin token, every change attributed to the caller and audited.
 */
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '#shared/audit/chain.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import type { StreamPoller } from '../../lib/local/stream-poller.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

const TOKEN = 'a'.repeat(64);
let gateway: RunningGateway;
let poller: StreamPoller;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;

async function admin(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const response = await fetch(`${gateway.url}/admin${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { 'x-tollgate-admin-token': token }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

beforeAll(async () => {
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0, adminToken: TOKEN });
  const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
  poller = await auditPoller(env.state);
});

afterAll(async () => {
  await poller?.stop();
  await gateway?.close();
});

describe('management API', () => {
  it('is closed without the admin token', async () => {
    expect((await admin('GET', '/keys', undefined, null)).status).toBe(403);
    expect((await admin('GET', '/keys', undefined, 'b'.repeat(64))).status).toBe(403);
  });

  it('creates, disables, rotates and deletes keys as the CLI does; the new key works at once', async () => {
    // Act
    const created = await admin('POST', '/keys', {
      name: 'from-api',
      models: ['openai/*'],
      monthlyLimitUsd: 5,
      rpm: 10,
    });
    const id = String(created.body.id);
    const key = String(created.body.key);
    const info = await fetch(`${gateway.url}/v1/key`, { headers: { authorization: `Bearer ${key}` } });
    const disabled = await admin('POST', `/keys/${id}/disable`);
    const refused = await fetch(`${gateway.url}/v1/key`, { headers: { authorization: `Bearer ${key}` } });
    const rotated = await admin('POST', `/keys/${id}/rotate`, { grace: '1h' });
    const listed = await admin('GET', '/keys');
    const deleted = await admin('DELETE', `/keys/${id}`);
    const gone = await admin('GET', `/keys/${id}`);

    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'from-api', monthlyLimitMicros: 5_000_000, rpm: 10 });
    expect(info.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect(refused.status).toBe(401);
    expect(rotated.body.key).not.toBe(key);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(deleted.status).toBe(200);
    expect(gone.status).toBe(404);
  });

  it('manages teams and providers, refusing duplicates and bad input with the right status', async () => {
    const team = await admin('POST', '/teams', { name: 'api-team', budgetUsd: 100 });
    expect(team.status).toBe(201);
    const provider = await admin('POST', '/providers', {
      name: 'api-openai',
      type: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      models: ['gpt-4o'],
      credential: { secret: 'sk-api-upstream-1' },
    });
    expect(provider.status).toBe(201);
    const duplicate = await admin('POST', '/providers/api-openai/credentials', {
      secret: 'sk-api-upstream-1',
    });
    expect(duplicate.status).toBe(409);
    const second = await admin('POST', '/providers/api-openai/credentials', {
      secret: 'sk-api-upstream-2',
      priority: 3,
    });
    expect(second.body).toMatchObject({ priority: 3, source: 'envelope' });
    expect((await admin('POST', '/keys', { name: 'x', rpm: 'lots' })).body.error).toEqual({
      code: 'invalid_request',
      message: 'rpm must be a positive integer',
    });
    expect(
      (
        await admin('POST', '/providers', {
          name: 'Bad Name',
          type: 'openai',
          baseUrl: 'https://x.example',
          credential: { secret: 'y' },
        })
      ).status,
    ).toBe(400);
    expect((await admin('POST', '/keys', 'not an object')).status).toBe(400);
    expect((await admin('GET', '/nothing-here')).status).toBe(404);
    expect((await admin('DELETE', `/teams/${String(team.body.teamId)}`)).status).toBe(200);
    expect((await admin('DELETE', '/providers/api-openai')).status).toBe(200);
  });

  it('attributes its changes to the caller in the audit log, which it serves and verifies', async () => {
    // Act
    await poller.drain();
    const records = (await admin('GET', '/audit?action=key.')).body as unknown as AuditRecord[];
    const verify = await admin('GET', '/audit/verify');

    // Assess
    expect(records.map((r) => r.action)).toEqual(['key.create', 'key.disable', 'key.rotate', 'key.delete']);
    expect(new Set(records.map((r) => r.actor))).toEqual(new Set([`local:${userInfo().username}`]));
    expect(verify.body).toMatchObject({ ok: true });
  });
});
