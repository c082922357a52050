/**
 * How CLI commands reach a Tollgate installation's storage. Locally: the running gateway's DynamoDB Local,
 * or, when no gateway runs, a DynamoDB Local started for the one command on the same data.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV, readEnv } from '#shared/env.ts';
import type { Actor } from '#shared/store/attribution.ts';
import { storesFromEnv as buildStores, type TollgateStores } from '#shared/store/stores.ts';
import { auditPoller } from '../local/audit-runtime.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { applyLocalEnv, inMemoryState, localActor, openLocalState, readRuntime } from '../local/state.ts';
import { ensureTables } from '../local/tables.ts';

/** The stores a command works with. */
export interface Stores extends TollgateStores {
  /** True on a local installation (no KMS, no Secrets Manager). */
  local: boolean;
}

/** Builds the stores from the env contract, exactly as the Lambdas do. */
export function storesFromEnv(actor: Actor = localActor()): Stores {
  return { ...buildStores(readEnv(), actor), local: true };
}

/** Runs `work` against the local installation's stores and releases what it started. */
export async function withLocalStores<T>(work: (stores: Stores) => Promise<T>): Promise<T> {
  const home = openLocalState();
  const runtime = readRuntime(home);
  const state = runtime?.inMemory === true ? inMemoryState(home) : home;
  const temporary = runtime === undefined ? await startDynamoDbLocal({ dbPath: state.dbPath }) : undefined;
  try {
    applyLocalEnv(state, runtime?.dynamoEndpoint ?? temporary?.endpoint ?? '');
    // The running gateway's authorizer cache, which a split change near a month's end waits out.
    if (runtime?.authorizerCacheTtlSeconds !== undefined)
      process.env[ENV.callerCacheSeconds] = String(runtime.authorizerCacheTtlSeconds);
    const client = new DynamoDBClient({});
    await ensureTables(client, state.tables);
    client.destroy();
    // With no gateway running, its audit poller is not either: record pending changes, before and after.
    const poller = temporary === undefined ? undefined : await auditPoller(state);
    await poller?.drain();
    const result = await work(storesFromEnv());
    await poller?.drain();
    await poller?.stop();
    return result;
  } finally {
    await temporary?.stop();
  }
}
