/**
 * Credentials an operator controls, through the CLI and `/admin` on one state folder with the local
 * gateway: labels, reordering in place (audited, the next request follows the new order) and refusals in
 * the management API's shape.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '#shared/audit/chain.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { applyLocalEnv, openLocalState, writeRuntime } from '../../lib/local/state.ts';
import type { StreamPoller } from '../../lib/local/stream-poller.ts';
import { ensureTables } from '../../lib/local/tables.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { runCli } from '../helpers/run-cli.ts';

const TOKEN = 'd'.repeat(64);
const FIRST = 'sk-cred-first-0001';
const SECOND = 'sk-cred-second-0002';
const THIRD = 'sk-cred-third-0003';
let gateway: RunningGateway;
let poller: StreamPoller;
let upstream: Awaited<ReturnType<typeof startFakeOpenAI>>;
let clientKey: string;

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gateway.url}/admin${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': TOKEN },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function cliJson<T>(...argv: string[]): Promise<T> {
  const out = await runCli(...argv, '--json');
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout) as T;
}

const chat = () =>
  new OpenAI({ apiKey: clientKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions.create({
    model: 'up/gpt-4o',
    messages: [{ role: 'user', content: 'Hi' }],
  });

/** Registers a provider of the fake upstream through the CLI, its credential given by `source`. */
const addProvider = (name: string, ...source: string[]) =>
  cliJson(
    'providers',
    'add',
    name,
    '--type',
    'openai',
    '--base-url',
    upstream.baseUrl,
    '--models',
    'gpt-4o',
    ...source,
  );

interface CredentialRow {
  id: string;
  label?: string;
  priority: number;
}

beforeAll(async () => {
  // The CLI, the gateway and this file share one state folder and its tables.
  const home = mkdtempSync(join(tmpdir(), 'tollgate-creds-'));
  process.env.TOLLGATE_HOME = home;
  process.env.TOLLGATE_TABLE_PREFIX = `creds${process.pid}`;
  const state = openLocalState(home);
  const endpoint = inject('dynamoEndpoint');
  applyLocalEnv(state, endpoint);
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1' });
  await ensureTables(client, state.tables);
  client.destroy();
  writeRuntime(state, {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint: endpoint,
    startedAt: new Date().toISOString(),
  });
  upstream = await startFakeOpenAI(FIRST, SECOND, THIRD);
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0, adminToken: TOKEN });
  const { auditPoller } = await import('../../lib/local/audit-runtime.ts');
  poller = await auditPoller(state);
  process.env.CREDS_FIRST = FIRST;
  process.env.CREDS_SECOND = SECOND;
  await addProvider('up', '--key-env', 'CREDS_FIRST', '--label', 'team-a');
  clientKey = (await cliJson<{ key: string }>('keys', 'create', '--name', 'creds-client')).key;
});

afterAll(async () => {
  await poller?.stop();
  await gateway?.close();
  await upstream?.close();
});

describe('credential labels and order', () => {
  it('labels credentials at registration and lists the labels, never the values', async () => {
    // Act
    await cliJson('providers', 'credentials', 'add', 'up', '--key-env', 'CREDS_SECOND', '--label', 'team-b');
    const listed = await runCli('providers', 'credentials', 'list', 'up');
    const rows = await cliJson<CredentialRow[]>('providers', 'credentials', 'list', 'up');

    // Assess
    expect(rows.map((r) => [r.label, r.priority])).toEqual([
      ['team-a', 0],
      ['team-b', 1],
    ]);
    // One field-naming convention: a credential's own id is `id`, as a key's and a team's are.
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row).not.toHaveProperty('credentialId');
    }
    expect(listed.stdout).toMatch(/LABEL/);
    expect(listed.stdout).toContain('team-b');
    expect(listed.stdout).not.toContain(SECOND);
  });

  it('reorders in place with the CLI: the next request uses the new first credential', async () => {
    // Prepare
    const rows = await cliJson<CredentialRow[]>('providers', 'credentials', 'list', 'up');
    const teamB = rows.find((r) => r.label === 'team-b');
    upstream.reset();

    // Act
    const before = await chat();
    const updated = await cliJson<CredentialRow>(
      'providers',
      'credentials',
      'update',
      'up',
      String(teamB?.id),
      '--priority',
      '0',
    );
    await cliJson('providers', 'credentials', 'update', 'up', String(rows[0]?.id), '--priority', '5');
    const after = await chat();

    // Assess
    expect(before.choices[0]?.message.content).toBeDefined();
    expect(after.choices[0]?.message.content).toBeDefined();
    expect(updated).toMatchObject({ id: teamB?.id, label: 'team-b', priority: 0 });
    expect(upstream.requests.map((r) => r.credential)).toEqual([FIRST, SECOND]);
  });

  it('relabels through PATCH /admin/providers/NAME/credentials/ID, audited with before and after', async () => {
    // Prepare
    const rows = (await admin('GET', '/providers/up/credentials')).body as unknown as CredentialRow[];
    const target = rows.find((r) => r.label === 'team-a');

    // Act
    const patched = await admin('PATCH', `/providers/up/credentials/${target?.id}`, {
      label: 'team-a2',
    });
    await poller.drain();
    const records = (await admin('GET', '/audit?action=credential.update')).body as unknown as AuditRecord[];

    // Assess
    expect(patched).toMatchObject({ status: 200, body: { label: 'team-a2', priority: 5 } });
    expect(records.map((r) => r.diff)).toEqual([
      { priority: { before: 1, after: 0 } },
      { priority: { before: 0, after: 5 } },
      { label: { before: 'team-a', after: 'team-a2' } },
    ]);
  });

  it('refuses a taken or malformed label, an empty change and an unknown credential, writing nothing', async () => {
    // Prepare
    const rows = (await admin('GET', '/providers/up/credentials')).body as unknown as CredentialRow[];
    const id = String(rows[0]?.id);

    // Act
    const taken = await admin('PATCH', `/providers/up/credentials/${id}`, { label: 'team-a2' });
    const malformed = await admin('PATCH', `/providers/up/credentials/${id}`, { label: 'Team A' });
    const empty = await admin('PATCH', `/providers/up/credentials/${id}`, {});
    const unknown = await admin('PATCH', '/providers/up/credentials/00000000-0000-0000-0000-000000000000', {
      priority: 1,
    });
    const cli = await runCli('providers', 'credentials', 'update', 'up', id, '--label', 'team-a2');
    const after = (await admin('GET', '/providers/up/credentials')).body as unknown as CredentialRow[];

    // Assess
    expect(rows[0]?.label).toBe('team-b');
    expect(taken.status).toBe(409);
    expect(malformed.status).toBe(400);
    expect(empty.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("credential label 'team-a2' already exists");
    expect(after).toEqual(rows);
  });
});

describe('credential binding', () => {
  const chatWith = (key: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
    });

  it('fails over only among the credentials a key is bound to', async () => {
    // Prepare: team-b (SECOND) is first in order, but the key is bound to team-a2 (FIRST) and team-c (THIRD).
    upstream.state.failing.clear();
    process.env.CREDS_THIRD = THIRD;
    await cliJson('providers', 'credentials', 'add', 'up', '--key-env', 'CREDS_THIRD', '--label', 'team-c');
    const bound = await cliJson<{ id: string; key: string; credentials: string[] }>(
      'keys',
      'create',
      '--name',
      'bound',
      '--credentials',
      'team-a2,team-c',
    );
    upstream.reset();
    upstream.state.failing.set(FIRST, {
      status: 401,
      body: {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });

    // Act
    const served = await chatWith(bound.key);
    const servedBy = upstream.requests.map((r) => r.credential);
    upstream.reset();
    upstream.state.failing.set(FIRST, { status: 401, body: { error: { message: 'no' } } });
    upstream.state.failing.set(THIRD, { status: 403, body: { error: { message: 'no' } } });
    const refused = await chatWith(bound.key);
    const refusedBody = (await refused.json()) as { error: { code: string } };

    // Assess
    expect(bound.credentials).toEqual(['team-a2', 'team-c']);
    expect(served.status).toBe(200);
    expect(servedBy).toEqual([FIRST, THIRD]);
    expect(refused.status).toBe(502);
    expect(refusedBody.error.code).toBe('upstream_credential_rejected');
    // The unbound credential, first in the provider's order, was never sent.
    expect(upstream.requests.map((r) => r.credential)).toEqual([FIRST, THIRD]);
  });

  it('marks the refused credentials in tollgate status, and only those', async () => {
    // Act
    const out = await runCli('status', '--json');
    const report = JSON.parse(out.stdout) as {
      providers: Array<{
        provider: string;
        credentials: Array<{ label?: string; rejected: { status: number; at: string } | null }>;
      }>;
    };
    const table = await runCli('status');

    // Assess
    const up = report.providers.find((p) => p.provider === 'up');
    expect(
      Object.fromEntries((up?.credentials ?? []).map((c) => [c.label, c.rejected?.status ?? null])),
    ).toEqual({ 'team-a2': 401, 'team-b': null, 'team-c': 403 });
    expect(table.stdout).toMatch(/REJECTED/);
    expect(table.stdout).toMatch(/team-c .*403 at /);
  });

  it("binds a team's keys, a key's own binding wins, and clearing it restores the team's", async () => {
    // Prepare
    upstream.reset();
    await cliJson('teams', 'create', '--name', 'acct-b', '--credentials', 'team-b');
    const team = await admin('PATCH', '/teams/acct-b', { credentials: ['team-c'] });
    const created = await admin('POST', '/teams', { name: 'acct-c', credentials: ['team-a2'] });
    const member = await cliJson<{ id: string; key: string }>(
      'keys',
      'create',
      '--name',
      'member',
      '--team',
      'acct-b',
    );

    // Act
    const viaTeam = await chatWith(member.key);
    await cliJson('keys', 'update', member.id, '--credentials', 'team-b');
    const viaKey = await chatWith(member.key);
    await cliJson('keys', 'update', member.id, '--clear-credentials');
    const viaTeamAgain = await chatWith(member.key);

    // Assess
    expect(team).toMatchObject({ status: 200, body: { credentials: ['team-c'] } });
    expect(created).toMatchObject({ status: 201, body: { name: 'acct-c', credentials: ['team-a2'] } });
    expect([viaTeam.status, viaKey.status, viaTeamAgain.status]).toEqual([200, 200, 200]);
    expect(upstream.requests.map((r) => r.credential)).toEqual([THIRD, SECOND, THIRD]);
  });

  it('answers 503 no_upstream_credential when the provider holds none of the bound labels, and refuses bad labels', async () => {
    // Prepare
    const elsewhere = await cliJson<{ key: string }>(
      'keys',
      'create',
      '--name',
      'elsewhere',
      '--credentials',
      'acct-z',
    );

    // Act
    const response = await chatWith(elsewhere.key);
    const body = (await response.json()) as { error: { code: string; message: string } };
    const malformed = await admin('POST', '/keys', { name: 'bad', credentials: ['Not A Label'] });
    const empty = await admin('PATCH', '/teams/acct-b', { credentials: [] });

    // Assess
    expect(response.status).toBe(503);
    expect(body.error).toMatchObject({ code: 'no_upstream_credential' });
    expect(body.error.message).toContain('bound to this key or its team');
    expect(malformed.status).toBe(400);
    expect(empty.status).toBe(400);
  });
});

describe('local credential references', () => {
  const chatModel = (model: string) =>
    new OpenAI({ apiKey: clientKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
    });

  it('serves with a --key-file and a --key-env --live credential, read by the gateway at run time', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-keyfile-')), 'upstream.key');
    writeFileSync(file, `${THIRD}\n`, { mode: 0o600 });
    await addProvider('byfile', '--key-file', file);
    // The variable is read when a request needs it, not when the credential is added.
    delete process.env.CREDS_LIVE;
    await addProvider('byenv', '--key-env', 'CREDS_LIVE', '--live');
    process.env.CREDS_LIVE = SECOND;
    upstream.reset();

    // Act
    await chatModel('byfile/gpt-4o');
    await chatModel('byenv/gpt-4o');
    const listed = await cliJson<Array<{ source: string; reference?: string }>>(
      'providers',
      'credentials',
      'list',
      'byfile',
    );

    // Assess
    expect(upstream.requests.map((r) => r.credential)).toEqual([THIRD, SECOND]);
    expect(listed).toMatchObject([{ source: 'file', reference: file }]);
  });

  it('takes the same references through /admin: a key file, a live variable, and refuses what cannot work here', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-keyfile-')), 'admin.key');
    writeFileSync(file, `${THIRD}\n`, { mode: 0o600 });
    const provider = (name: string, credential: Record<string, unknown>) =>
      admin('POST', '/providers', {
        name,
        type: 'openai',
        baseUrl: upstream.baseUrl,
        models: ['gpt-4o'],
        credential,
      });
    delete process.env.CREDS_ADMIN_LIVE;

    // Act
    const byFile = await provider('adminfile', { keyFile: file, label: 'file' });
    const byEnv = await provider('adminenv', { keyEnv: 'CREDS_ADMIN_LIVE' });
    process.env.CREDS_ADMIN_LIVE = FIRST;
    upstream.reset();
    await chatModel('adminfile/gpt-4o');
    await chatModel('adminenv/gpt-4o');
    const listed = await admin('GET', '/providers/adminfile/credentials');
    const parameter = await admin('POST', '/providers/adminfile/credentials', {
      parameterArn: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x',
    });
    const relative = await admin('POST', '/providers/adminfile/credentials', { keyFile: 'admin.key' });
    const both = await admin('POST', '/providers/adminfile/credentials', { keyFile: file, keyEnv: 'X' });
    const after = await admin('GET', '/providers/adminfile/credentials');

    // Assess
    expect(byFile.status).toBe(201);
    expect(byEnv.status).toBe(201);
    expect(upstream.requests.map((r) => r.credential)).toEqual([THIRD, FIRST]);
    expect(listed.body).toMatchObject([{ source: 'file', reference: file, label: 'file' }]);
    expect(JSON.stringify(listed.body)).not.toContain(THIRD);
    expect(parameter).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringContaining('Parameter Store') } },
    });
    expect(relative).toMatchObject({
      status: 400,
      body: { error: { message: 'a key file must be an absolute path' } },
    });
    expect(both.status).toBe(400);
    expect(after.body).toEqual(listed.body);
  });

  it('refuses --live without --key-env, and a deployed-only reference locally', async () => {
    const live = await runCli('providers', 'credentials', 'add', 'byfile', '--key-stdin', '--live');
    const parameter = await runCli(
      'providers',
      'credentials',
      'add',
      'byfile',
      '--parameter-arn',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/x',
    );
    expect(live.code).not.toBe(0);
    expect(live.stderr).toContain('--live goes with --key-env VAR');
    expect(parameter.code).not.toBe(0);
    expect(parameter.stderr).toContain('Parameter Store references work only on a deployed stack');
  });
});
