/**
 * The management API through the local gateway: the CLI's operations over HTTP on the same stores, closed
 * without the admin token, every change attributed to the caller and audited.
 */
import { createHash } from 'node:crypto';
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
    expect(created.body).toMatchObject({ name: 'from-api', monthlyLimitUsd: 5, rpm: 10 });
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
      field: 'rpm',
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
    expect((await admin('DELETE', `/teams/${String(team.body.id)}`)).status).toBe(200);
    expect((await admin('DELETE', '/providers/api-openai')).status).toBe(200);
  });

  it('sets a price as `models price` does, refusing a bad slug, an unknown provider and an absurd price', async () => {
    // Prepare
    await admin('POST', '/providers', {
      name: 'priced-api',
      type: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      models: ['vendor/model-1'],
      credential: { secret: 'sk-api-upstream-priced' },
    });

    // Act
    const set = await admin('PUT', '/prices', {
      model: 'priced-api/vendor/model-1',
      inputPerMTok: 2.5,
      outputPerMTok: '10',
    });
    const listed = await admin('GET', '/providers');
    const noSlug = await admin('PUT', '/prices', { model: 'model-1', inputPerMTok: 1, outputPerMTok: 1 });
    const unknown = await admin('PUT', '/prices', { model: 'nobody/m', inputPerMTok: 1, outputPerMTok: 1 });
    const absurd = await admin('PUT', '/prices', {
      model: 'priced-api/m',
      inputPerMTok: -1,
      outputPerMTok: 1,
    });

    // Assess: a model id may itself hold a slash; the provider is what precedes the first.
    expect(set).toEqual({
      status: 200,
      body: { model: 'priced-api/vendor/model-1', inputPerMTok: 2.5, outputPerMTok: 10 },
    });
    const provider = (listed.body as unknown as { provider: string; prices: object }[]).find(
      (p) => p.provider === 'priced-api',
    );
    expect(provider?.prices).toEqual({ 'vendor/model-1': { inputPerMTok: 2.5, outputPerMTok: 10 } });
    expect(noSlug).toMatchObject({
      status: 400,
      body: { error: { message: 'model must be PROVIDER/MODEL' } },
    });
    expect(unknown.status).toBe(404);
    expect(absurd).toMatchObject({
      status: 400,
      body: { error: { message: 'inputPerMTok must be USD per million tokens, from 0 to 10000' } },
    });
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

  it('answers refusals of the operations with their status: 404, 409 with candidates, 400 naming the field', async () => {
    // Prepare
    const team = await admin('POST', '/teams', { name: 'refusals' });
    const teamId = String(team.body.id);
    const keyA = await admin('POST', '/keys', { name: 'twin', team: 'refusals' });
    const keyB = await admin('POST', '/keys', { name: 'twin' });

    // Act
    const missing = await admin('GET', '/keys/NoSuchKey123');
    const inUse = await admin('DELETE', `/teams/${teamId}`);
    const typo = await admin('POST', '/keys', { name: 'x', monthlyLimit: 5 });
    const ambiguous = await admin('GET', '/keys/twin');
    const byTeamName = await admin('GET', '/teams/refusals');
    const noTeam = await admin('POST', '/keys', { name: 'y', team: 'nobody' });

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'not_found', message: "key 'NoSuchKey123' not found" });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error?.message).toBe(`team ${teamId} still has 1 key(s); delete them first`);
    expect(typo.body.error).toEqual({
      code: 'invalid_request',
      message: "unknown field 'monthlyLimit'",
      field: 'monthlyLimit',
    });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.error?.message).toContain(String(keyA.body.id));
    expect(ambiguous.body.error?.message).toContain(String(keyB.body.id));
    expect(keyA.body.teamId).toBe(teamId);
    expect(byTeamName.body).toMatchObject({ id: teamId, keys: [keyA.body.id] });
    expect(noTeam.status).toBe(400);
    await admin('DELETE', `/keys/${String(keyA.body.id)}`);
    await admin('DELETE', `/keys/${String(keyB.body.id)}`);
    expect((await admin('DELETE', '/teams/refusals')).status).toBe(200);
  });

  it('imports a ring all or nothing, idempotently, and syncs it', async () => {
    // Prepare
    const hash = (s: string) => createHash('sha256').update(s).digest('hex');
    const ring = `api-a:${hash('a')},${hash('b')}\n${hash('c')}`;

    // Act
    const refused = await admin('POST', '/keys/import', { ring: `${ring}\nnot-hex` });
    const listedAfterRefusal = await admin('GET', '/keys');
    const imported = await admin('POST', '/keys/import', { ring, rpm: 5 });
    const again = await admin('POST', '/keys/import', { ring });
    const synced = await admin('POST', '/keys/import', { ring: `api-a:${hash('a')}`, sync: true });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toBe(
      "line 3, column 1: 'not-hex' is not a SHA-256 hex or label:sha256hex",
    );
    expect(JSON.stringify(listedAfterRefusal.body)).not.toContain('api-a');
    expect((imported.body.added as Array<{ name: string }>).map((k) => k.name)).toEqual([
      'api-a',
      'key-2',
      'key-3',
    ]);
    expect(again.body).toMatchObject({ added: [], removed: [] });
    expect((synced.body.removed as Array<{ name: string }>).map((k) => k.name).sort()).toEqual([
      'key-2',
      'key-3',
    ]);
    const left = await admin('POST', '/keys/import', { ring: `api-a:${hash('a')}`, sync: true });
    expect(left.body).toMatchObject({ added: [], removed: [] });
    await admin('DELETE', '/keys/api-a');
  });
});
