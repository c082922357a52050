/**
 * Racing read-modify-writes on the configuration stores, made deterministic by a gate in front of DynamoDB
 * Local that holds the writes until both writers have read: two `keys rotate` (one from the CLI, one from
 * the management API through the local gateway) give one winner whose key works and one clear 409.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashKey, parseKey } from '#shared/keys.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { applyLocalEnv, type LocalState, openLocalState, writeRuntime } from '../../lib/local/state.ts';
import { ensureTables } from '../../lib/local/tables.ts';
import { startDynamoGate } from '../helpers/dynamo-gate.ts';
import { runCli } from '../helpers/run-cli.ts';

const TOKEN = 'r'.repeat(64);
let gate: Awaited<ReturnType<typeof startDynamoGate>>;
let gateway: RunningGateway;
let state: LocalState;

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-races-'));
  process.env.TOLLGATE_HOME = home;
  process.env.TOLLGATE_TABLE_PREFIX = `races${process.pid}`;
  state = openLocalState(home);
  const direct = inject('dynamoEndpoint');
  const client = new DynamoDBClient({ endpoint: direct, region: 'us-east-1' });
  applyLocalEnv(state, direct);
  await ensureTables(client, state.tables);
  client.destroy();
  // Hold the key writes (not the reads) until two writers are waiting.
  gate = await startDynamoGate(direct, {
    operation: 'UpdateItem',
    matches: (body) => body.TableName === state.tables.keys,
    count: 2,
  });
  applyLocalEnv(state, gate.endpoint);
  // The CLI finds "the running gateway" and uses its DynamoDB endpoint: the gate.
  writeRuntime(state, {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint: gate.endpoint,
    startedAt: new Date().toISOString(),
  });
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0, adminToken: TOKEN });
});

afterAll(async () => {
  await gateway?.close();
  await gate?.close();
});

describe('racing rotations', () => {
  it('give one winner whose key works and a clear 409 to the other, from the CLI and the API at once', async () => {
    // Prepare
    const { storesFromEnv } = await import('../../lib/cli/context.ts');
    const stores = storesFromEnv({ id: 'local:races' });
    const created = await stores.keys.create({ name: 'raced' });
    const id = created.key.keyId;

    // Act
    const [cli, api] = await Promise.all([
      runCli('keys', 'rotate', id, '--json', '--yes'),
      fetch(`${gateway.url}/admin/keys/${id}/rotate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tollgate-admin-token': TOKEN },
        body: '{}',
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })),
    ]);

    // Assess
    expect(gate.held()).toBe(2);
    const cliWon = cli.code === 0;
    const apiWon = api.status === 200;
    expect([cliWon, apiWon].filter(Boolean)).toHaveLength(1);
    const winnerKey = cliWon ? String((JSON.parse(cli.stdout) as { key: string }).key) : String(api.body.key);
    const parsed = parseKey(winnerKey, 'sk-tg-');
    expect(parsed?.keyId).toBe(id);
    await expect(stores.keys.authenticate(id, hashKey(winnerKey))).resolves.toMatchObject({ keyId: id });
    await expect(stores.keys.authenticate(id, hashKey(created.plaintext))).rejects.toThrow();
    if (cliWon) {
      expect(api.status).toBe(409);
      expect(api.body).toEqual({
        error: { code: 'conflict', message: expect.stringMatching(/another writer/) },
      });
      expect(api.body.key).toBeUndefined();
    } else {
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/another writer/);
      expect(cli.stdout).not.toMatch(/sk-tg-/);
    }
  });
});
