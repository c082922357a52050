/**
 * Points the current test file's process at the run's DynamoDB Local with tables of its own, through the
 * same `applyLocalEnv` the local gateway uses, and returns the stores.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { storesFromEnv } from '../../lib/cli/context.ts';
import { applyLocalEnv, type LocalState, openLocalState, writeRuntime } from '../../lib/local/state.ts';
import { ensureTables, localTableNames } from '../../lib/local/tables.ts';

let counter = 0;

/**
 * Lets the CLI run in this process (`runCli`) work on `state`: its folder, its tables, and `dynamoEndpoint`
 * as the running gateway's DynamoDB, as a terminal beside `tollgate dev` does.
 */
export function shareWithCli(state: LocalState, dynamoEndpoint: string): void {
  process.env.TOLLGATE_HOME = state.home;
  process.env.TOLLGATE_TABLE_PREFIX = state.tables.keys.replace(/-keys$/, '');
  writeRuntime(state, {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint,
    startedAt: new Date().toISOString(),
  });
}

/** Creates a fresh state folder and fresh tables; `endpoint` defaults to the shared DynamoDB Local. */
export async function setupLocalEnv(endpoint: string = inject('dynamoEndpoint')) {
  counter += 1;
  const home = mkdtempSync(join(tmpdir(), 'tollgate-test-'));
  const state = { ...openLocalState(home), tables: localTableNames(`t${process.pid}-${counter}`) };
  applyLocalEnv(state, endpoint);
  const client = new DynamoDBClient({ endpoint });
  await ensureTables(client, state.tables);
  return {
    state,
    stores: storesFromEnv({ id: 'local:test-suite' }),
    /** Every attribute value of every item of every table, as JSON text, for secret scans. */
    async dumpTables(): Promise<string> {
      const parts: string[] = [];
      for (const table of Object.values(state.tables)) {
        const out = await client.send(new ScanCommand({ TableName: table }));
        parts.push(JSON.stringify(out.Items ?? []));
      }
      return parts.join('\n');
    },
  };
}
