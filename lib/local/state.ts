/**
 * The local state folder (`.tollgate/` or `TOLLGATE_HOME`): DynamoDB Local's data, the 256-bit master key
 * that wraps credential data keys (mode 0600), the audit's files, and `runtime.json` while a gateway runs.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV } from '#shared/env.ts';
import type { Actor } from '#shared/store/attribution.ts';
import type { TableName } from '#shared/store/schema.ts';
import { localTableNames } from './tables.ts';

/** Paths inside one state folder. */
export interface LocalState {
  home: string;
  /**
   * Where the audit's signing keys, digests, failed batches and stream checkpoints are: `home`, or
   * `home/in-memory` for a gateway whose data is in memory ({@link inMemoryState}).
   */
  auditHome: string;
  dbPath: string;
  masterKeyPath: string;
  runtimePath: string;
  tables: Record<TableName, string>;
}

/** What a running local gateway publishes for the CLI. */
export interface RuntimeInfo {
  pid: number;
  gatewayUrl: string;
  dynamoEndpoint: string;
  startedAt: string;
  /** The gateway's authorizer cache TTL, for `tollgate doctor`. */
  authorizerCacheTtlSeconds?: number;
  /** DynamoDB Local keeps the data in memory (`tollgate dev --in-memory`): see {@link inMemoryState}. */
  inMemory?: boolean;
}

/** The local management API's token (`admin.token`, mode 0600), created on first use. */
export function adminToken(state: LocalState): string {
  const path = join(state.home, 'admin.token');
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  return readFileSync(path, 'utf8').trim();
}

/** Locally, changes are attributed to the operating-system user: `local:<user>`. */
export function localActor(): Actor {
  return { id: `local:${userInfo().username}` };
}

/** The state folder from `TOLLGATE_HOME`, else `.tollgate` under the working directory. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TOLLGATE_HOME ?? '.tollgate');
}

/** Creates the folder, its database folder and the master key if missing; checks the key's mode. */
export function openLocalState(home: string = stateHome()): LocalState {
  const dbPath = join(home, 'dynamodb');
  mkdirSync(dbPath, { recursive: true, mode: 0o700 });
  const masterKeyPath = join(home, 'master.key');
  if (!existsSync(masterKeyPath)) {
    writeFileSync(masterKeyPath, randomBytes(32), { mode: 0o600, flag: 'wx' });
  }
  // A key readable by others is tightened rather than trusted as is.
  if ((statSync(masterKeyPath).mode & 0o077) !== 0) chmodSync(masterKeyPath, 0o600);
  return {
    home,
    auditHome: home,
    dbPath,
    masterKeyPath,
    runtimePath: join(home, 'runtime.json'),
    tables: localTableNames(process.env.TOLLGATE_TABLE_PREFIX ?? 'tollgate'),
  };
}

/**
 * The state of a gateway whose data is in memory: its audit files apart from the persistent ones, in
 * `in-memory/`, since a digest chain sealed over another table reads as tampering to both.
 */
export function inMemoryState(state: LocalState): LocalState {
  return { ...state, auditHome: join(state.home, 'in-memory') };
}

/** True while a process with that pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running gateway's runtime info, or undefined when none runs (a stale file is ignored). */
export function readRuntime(state: LocalState): RuntimeInfo | undefined {
  if (!existsSync(state.runtimePath)) return undefined;
  const info = JSON.parse(readFileSync(state.runtimePath, 'utf8')) as RuntimeInfo;
  return processAlive(info.pid) ? info : undefined;
}

export function writeRuntime(state: LocalState, info: RuntimeInfo): void {
  writeFileSync(state.runtimePath, JSON.stringify(info, null, 2), { mode: 0o600 });
}

export function clearRuntime(state: LocalState): void {
  rmSync(state.runtimePath, { force: true });
}

/**
 * Points this process at a local installation through the env contract and the SDK's own variables:
 * the handlers, stores and CLI then need nothing local-specific.
 */
export function applyLocalEnv(
  state: LocalState,
  dynamoEndpoint: string,
  target: NodeJS.ProcessEnv = process.env,
): void {
  target[ENV.keysTable] = state.tables.keys;
  target[ENV.teamsTable] = state.tables.teams;
  target[ENV.providersTable] = state.tables.providers;
  target[ENV.usageTable] = state.tables.usage;
  target[ENV.requestLogTable] = state.tables.requestLog;
  target[ENV.keyring] = `local:${state.masterKeyPath}`;
  target[ENV.auditTable] = state.tables.audit;
  target[ENV.auditSigner] = `local:${join(state.auditHome, 'audit')}`;
  target[ENV.auditFailureSink] = `file:${join(state.auditHome, 'audit-failures.jsonl')}`;
  target[ENV.auditDigestStore] = `file:${join(state.auditHome, 'audit-digests.jsonl')}`;
  // Locally a configuration change reaches the very next request (AWS: within TOLLGATE_CONFIG_CHECK_MS).
  target[ENV.configCheckMs] ??= '0';
  target.AWS_ENDPOINT_URL_DYNAMODB = dynamoEndpoint;
  target.AWS_ENDPOINT_URL_DYNAMODB_STREAMS = dynamoEndpoint;
  // DynamoDB Local accepts any credentials; these keep the SDK from searching for real ones.
  target.AWS_REGION ??= 'us-east-1';
  target.AWS_ACCESS_KEY_ID ??= 'local';
  target.AWS_SECRET_ACCESS_KEY ??= 'local';
}
