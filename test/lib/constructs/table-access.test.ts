/**
 * The proxy's, the authorizer's, the management API's and the audit function's DynamoDB calls against the
 * grants their roles have on AWS
 * (`TABLE_ACCESS`, which the stack binds), enforced by a gate in front of DynamoDB Local as IAM would:
 * DynamoDB Local itself authorizes everything, so a call a role lacks would pass every other test and fail
 * only deployed.
 */

import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditRecord, sealOnSchedule } from '#shared/audit/auditor.ts';
import { authorizeRequest } from '#shared/auth.ts';
import { ENV, readEnv } from '#shared/env.ts';
import type { GatewayRequest } from '#shared/http.ts';
import { issueKey } from '#shared/keys.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { requestPathStores } from '#shared/store/request-path.ts';
import type { TableName } from '#shared/store/schema.ts';
import { serveAdmin } from '../../../lambdas/admin/boundary.ts';
import { adminFromEnv } from '../../../lambdas/admin/deps.ts';
import { auditorFromEnv } from '../../../lambdas/audit/deps.ts';
import { authorizerDepsFromEnv } from '../../../lambdas/authorizer/deps.ts';
import { proxyFromEnv } from '../../../lambdas/proxy/deps.ts';
import { TABLE_ACCESS } from '../../../lib/constructs/table-access.ts';
import { startFakeAnthropic } from '../../fakes/anthropic-upstream.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../../fakes/openai-upstream.ts';
import { startIamGate } from '../../helpers/iam-gate.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';

const UPSTREAM_KEY = 'sk-upstream-iam-7a8b';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let fake: FakeOpenAI;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;

/** Physical table names of this run to the logical names grants are stated in. */
function tableNames(): Record<string, TableName> {
  const logical = {
    keys: ENV.keysTable,
    teams: ENV.teamsTable,
    providers: ENV.providersTable,
    usage: ENV.usageTable,
    requestLog: ENV.requestLogTable,
    audit: ENV.auditTable,
  } as const;
  return Object.fromEntries(
    Object.entries(logical).map(([name, variable]) => [String(process.env[variable]), name]),
  ) as Record<string, TableName>;
}

/** A gate for `grants` in front of this run's DynamoDB Local, and a document client through it. */
async function gated(grants: Partial<Record<TableName, readonly string[]>>) {
  const gate = await startIamGate(inject('dynamoEndpoint'), grants, tableNames());
  const db = leanDocumentDb({ endpoint: gate.endpoint });
  return {
    gate,
    db,
    close: async () => {
      await gate.close();
    },
  };
}

beforeAll(async () => {
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '300';
  // The provider statistics are flushed at once, so their write goes through the gate too.
  process.env.TOLLGATE_STATS_FLUSH_MS = '1';
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  fake = await startFakeOpenAI(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'iam', type: 'openai', baseUrl: fake.baseUrl, models: ['m'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('iam', 'm', { inputPerMTok: 1, outputPerMTok: 2 });
  anthropic = await startFakeAnthropic(UPSTREAM_KEY);
  await env.stores.providers.add(
    { name: 'iam-claude', type: 'anthropic', baseUrl: anthropic.url, models: ['claude'] },
    { secret: UPSTREAM_KEY },
  );
  await env.stores.providers.setPrice('iam-claude', 'claude', { inputPerMTok: 3, outputPerMTok: 15 });
});

afterAll(async () => {
  await fake?.close();
  await anthropic?.close();
});

/** Every kind of request the proxy serves for a key in a sharded team with limits, through `grants`. */
async function servedThrough(grants: Partial<Record<TableName, readonly string[]>>) {
  const { gate, db, close } = await gated(grants);
  const team = await env.stores.teams.create(`iam-team-${Date.now()}`, 1_000_000_000);
  await env.stores.teams.setBudgetShards(team.teamId, 4);
  const created = await env.stores.keys.create({
    name: 'iam',
    teamId: team.teamId,
    monthlyLimitMicros: 1_000_000_000,
    rpm: 1000,
  });
  const proxy = proxyFromEnv(readEnv(), requestPathStores(readEnv(), db));
  const auth = {
    keyId: created.key.keyId,
    keyName: 'iam',
    models: [],
    teamId: team.teamId,
    limits: { monthlyLimitMicros: 1_000_000_000, rpm: 1000, teamBudgetMicros: 1_000_000_000 },
  };
  const request = (path: string, body?: unknown, headers: Record<string, string> = {}): GatewayRequest => ({
    requestId: `iam-${path}-${Math.random()}`,
    method: body === undefined ? 'GET' : 'POST',
    resource: path,
    path,
    params: {},
    headers: { authorization: `Bearer ${created.plaintext}`, ...headers },
    query: {},
    body: body === undefined ? undefined : JSON.stringify(body),
    auth,
    signal: new AbortController().signal,
  });
  const chat = { model: 'iam/m', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };
  const statuses: Record<string, number> = {};
  for (const [name, req] of [
    ['chat', request('/v1/chat/completions', chat)],
    ['stream', request('/v1/chat/completions', { ...chat, stream: true })],
    ['key', request('/v1/key')],
    ['usage', request('/v1/usage')],
    ['requests', request('/v1/usage/requests')],
    ['models', request('/v1/models')],
    // No authorizer on the Anthropic route: the proxy authenticates the key itself.
    [
      'messages',
      {
        ...request('/v1/messages', { ...chat, model: 'iam-claude/claude' }),
        headers: { 'x-api-key': created.plaintext, 'anthropic-version': '2023-06-01' },
        auth: undefined,
      },
    ],
  ] as const) {
    const answer = await proxy.handle(req);
    if (typeof answer.body !== 'string' && answer.body !== null) for await (const _ of answer.body) void _;
    statuses[name] = answer.status;
  }
  // Settlement runs after the answer, and the statistics flush after it: both reach the gate before it closes.
  await gate.quiet();
  await close();
  return { statuses, denied: gate.denied, allowed: [...gate.allowed].sort() };
}

describe('the proxy under its role’s DynamoDB grants', () => {
  it('serves requests, streams, key, usage and model views with no call its role lacks', async () => {
    const { statuses, denied, allowed } = await servedThrough(TABLE_ACCESS.proxy);
    expect(denied).toEqual([]);
    // Admission, settlement and the request log all went through the gate.
    expect(allowed).toEqual(
      expect.arrayContaining([
        'BatchGetItem@keys',
        'UpdateItem@usage',
        'PutItem@requestLog',
        'Query@requestLog',
        'BatchGetItem@usage',
      ]),
    );
    expect(statuses).toEqual({
      chat: 200,
      stream: 200,
      key: 200,
      usage: 200,
      requests: 200,
      models: 200,
      messages: 200,
    });
  });

  it('fails where a grant is missing, so the gate does hold the proxy to them', async () => {
    const withoutBatch = {
      ...TABLE_ACCESS.proxy,
      teams: (TABLE_ACCESS.proxy.teams as readonly string[]).filter(
        (action) => action !== 'dynamodb:BatchGetItem',
      ),
    };
    const { statuses, denied } = await servedThrough(withoutBatch);
    expect(denied.some((line) => line.includes('dynamodb:BatchGetItem'))).toBe(true);
    expect(statuses.chat).not.toBe(200);
  });
});

describe('the authorizer under its role’s DynamoDB grants', () => {
  it('authorizes a key in a team, and refuses an unknown one, with no call its role lacks', async () => {
    // Prepare
    const { gate, db, close } = await gated(TABLE_ACCESS.authorizer);
    const team = await env.stores.teams.create(`iam-auth-team-${Date.now()}`);
    const created = await env.stores.keys.create({ name: 'iam-auth', teamId: team.teamId });
    const deps = authorizerDepsFromEnv(readEnv(), db);
    const event = (key: string) => ({
      headers: { Authorization: `Bearer ${key}` },
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/v1/chat/completions',
      queryStringParameters: null,
    });

    // Act
    const allowed = await authorizeRequest(event(created.plaintext), deps);
    // Well formed, the key's own id, another secret: refused after reading the key.
    const refused = authorizeRequest(event(issueKey(readEnv().keyPrefix, created.key.keyId).plaintext), deps);

    // Assess
    expect(allowed.context?.teamId).toBe(team.teamId);
    await expect(refused).rejects.toThrow('Unauthorized');
    expect(gate.denied).toEqual([]);
    await close();
  });
});

describe('the management API under its role’s DynamoDB grants', () => {
  it('serves every kind of operation with no call its role lacks', async () => {
    // Prepare
    const { gate, db, close } = await gated(TABLE_ACCESS.admin);
    const deps = adminFromEnv(readEnv(), db);
    const actor = { id: 'arn:aws:iam::123456789012:user/operator' };
    let n = 0;
    const call = async (method: string, target: string, body?: unknown) => {
      n += 1;
      const url = new URL(target, 'http://admin');
      const answer = await serveAdmin(
        {
          requestId: `iam-admin-${n}`,
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body: body === undefined ? undefined : JSON.stringify(body),
          actor,
        },
        deps,
      );
      return { status: answer.statusCode, body: JSON.parse(answer.body) as Record<string, unknown> };
    };
    const name = `iam-admin-team-${Date.now()}`;

    // Act: a team with a sharded budget, a key in it, the installation budget (sharded from the start),
    // the reads of their spend, a key's requests and usage, reconciliation and the audit log.
    const team = await call('POST', '/teams', { name, budgetUsd: 100 });
    const statuses = {
      team: team.status,
      shards: (await call('PUT', `/teams/${name}/shards`, { count: 4 })).status,
      key: (await call('POST', '/keys', { name: `${name}-key`, team: name, monthlyLimitUsd: 5 })).status,
      showTeam: (await call('GET', `/teams/${name}`)).status,
      keys: (await call('GET', `/keys?team=${name}`)).status,
      keyShards: (await call('PUT', `/keys/${name}-key/shards`, { count: 3 })).status,
      showKey: (await call('GET', `/keys/${name}-key`)).status,
      disable: (await call('POST', `/keys/${name}-key/disable`)).status,
      requests: (await call('GET', `/keys/${name}-key/requests`)).status,
      usage: (await call('GET', `/keys/${name}-key/usage`)).status,
      budget: (await call('PATCH', '/settings', { budgetUsd: 100 })).status,
      settings: (await call('GET', '/settings')).status,
      reconcile: (await call('POST', '/reservations/reconcile')).status,
      audit: (await call('GET', '/audit')).status,
      providers: (await call('GET', '/providers')).status,
    };

    // Assess
    expect(gate.denied).toEqual([]);
    expect(statuses).toEqual({
      team: 201,
      shards: 200,
      key: 201,
      showTeam: 200,
      keys: 200,
      keyShards: 200,
      showKey: 200,
      disable: 200,
      requests: 200,
      usage: 200,
      budget: 200,
      settings: 200,
      reconcile: 200,
      audit: 200,
      providers: 200,
    });
    await call('PATCH', '/settings', { budgetUsd: null });
    await close();
  });
});

describe('the audit function under its role’s DynamoDB grants', () => {
  it('appends a stream record to the chain and seals a digest with no call its role lacks', async () => {
    // Prepare: a team's creation as the teams table's stream delivers it.
    const { gate, db, close } = await gated(TABLE_ACCESS.audit);
    const deps = auditorFromEnv(readEnv(), Date.now, db);
    const teamId = `team_iam${Date.now()}`;
    const record = {
      eventID: `iam-${teamId}`,
      eventName: 'INSERT',
      eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${String(process.env[ENV.teamsTable])}/stream/2026-12-07T00:00:00.000`,
      dynamodb: {
        NewImage: marshall({
          teamId,
          name: teamId,
          status: 'active',
          lastChange: {
            actor: 'local:iam',
            changeId: `c-${teamId}`,
            at: new Date().toISOString(),
            action: 'team.create',
          },
        }),
      },
    } as unknown as DynamoDBRecord;

    // Act
    await auditRecord(record, deps);
    await sealOnSchedule(deps, 'schedule');

    // Assess: the chain's transactions (Puts and the head's Update) all went through.
    expect(gate.denied).toEqual([]);
    expect([...gate.allowed]).toEqual(expect.arrayContaining(['TransactWriteItems@audit']));
    expect((await deps.log.records()).some((r) => r.eventId === `iam-${teamId}`)).toBe(true);
    await close();
  });
});
