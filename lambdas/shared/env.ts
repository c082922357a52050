/**
 * The one environment-variable contract of Tollgate. The CDK stack (`lib/`) sets these variables on the
 * Lambda functions, the local gateway sets them on its own process, and the handlers read them once, at
 * cold start, through {@link readEnv}. Renaming a variable here renames it everywhere.
 */
export const ENV = {
  keysTable: 'TOLLGATE_KEYS_TABLE',
  teamsTable: 'TOLLGATE_TEAMS_TABLE',
  providersTable: 'TOLLGATE_PROVIDERS_TABLE',
  usageTable: 'TOLLGATE_USAGE_TABLE',
  requestLogTable: 'TOLLGATE_REQUEST_LOG_TABLE',
  auditTable: 'TOLLGATE_AUDIT_TABLE',
  /** `kms:<asymmetric key>` in AWS; `local:<folder of the key pair>` locally. */
  auditSigner: 'TOLLGATE_AUDIT_SIGNER',
  /** `sqs:<queue url>` in AWS; `file:<path>` locally. */
  auditFailureSink: 'TOLLGATE_AUDIT_FAILURE_SINK',
  /** A signed digest every this many audit records. */
  auditDigestEvery: 'TOLLGATE_AUDIT_DIGEST_EVERY',
  /** A signed digest at least every this many minutes, also when idle. */
  auditDigestMinutes: 'TOLLGATE_AUDIT_DIGEST_MINUTES',
  /** `s3:<Object Lock bucket>` in AWS; `file:<append-only JSON lines>` locally. */
  auditDigestStore: 'TOLLGATE_AUDIT_DIGEST_STORE',
  /** `kms:<key id or ARN>` in AWS; `local:<path of the 256-bit master key file>` in the local gateway. */
  keyring: 'TOLLGATE_KEYRING',
  keyPrefix: 'TOLLGATE_KEY_PREFIX',
  maxBodyBytes: 'TOLLGATE_MAX_BODY_BYTES',
  credentialCacheSeconds: 'TOLLGATE_CREDENTIAL_CACHE_SECONDS',
  /** How long a proxy instance keeps a key's checked context on routes without an authorizer (0: never). */
  callerCacheSeconds: 'TOLLGATE_CALLER_CACHE_SECONDS',
  /** How often a proxy instance compares the configuration version (0: before every use). */
  configCheckMs: 'TOLLGATE_CONFIG_CHECK_MS',
  requestLogRetentionDays: 'TOLLGATE_REQUEST_LOG_RETENTION_DAYS',
  /** Time allowed for the upstream's response headers. */
  firstByteTimeoutMs: 'TOLLGATE_FIRST_BYTE_TIMEOUT_MS',
  /** Silence allowed between streamed upstream events. */
  idleTimeoutMs: 'TOLLGATE_IDLE_TIMEOUT_MS',
  /** Silence after which an SSE comment heartbeat is sent to the client. */
  heartbeatMs: 'TOLLGATE_HEARTBEAT_MS',
  /** How long a rate-limited credential is skipped when the upstream sends no Retry-After. */
  rateLimitCooldownMs: 'TOLLGATE_RATE_LIMIT_COOLDOWN_MS',
  /** How often a proxy instance writes its per-provider statistics (0: after every request). */
  statsFlushMs: 'TOLLGATE_STATS_FLUSH_MS',
  /** `on` publishes aggregate usage at `GET /v1/analytics`; off by default (see the README). */
  publicAnalytics: 'TOLLGATE_PUBLIC_ANALYTICS',
  /** Comma-separated browser origins allowed to call the API (CORS). */
  corsOrigins: 'TOLLGATE_CORS_ORIGINS',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Defaults for the optional variables; a variable absent here is required. */
export const ENV_DEFAULTS: Partial<Record<keyof typeof ENV, string>> = {
  keyPrefix: 'sk-tg-',
  maxBodyBytes: String(1024 * 1024),
  credentialCacheSeconds: '300',
  callerCacheSeconds: '60',
  configCheckMs: '2000',
  requestLogRetentionDays: '90',
  auditDigestEvery: '100',
  auditDigestMinutes: '15',
  firstByteTimeoutMs: '120000',
  idleTimeoutMs: '300000',
  heartbeatMs: '15000',
  rateLimitCooldownMs: '30000',
  statsFlushMs: '60000',
  publicAnalytics: 'off',
  logLevel: 'INFO',
};

/** The typed view of the environment that domain code receives. */
export interface TollgateEnv {
  /** Each function is bound only to the tables it uses: absent names are checked where they are used. */
  keysTable: string | undefined;
  teamsTable: string | undefined;
  providersTable: string | undefined;
  usageTable: string | undefined;
  requestLogTable: string | undefined;
  auditTable: string | undefined;
  auditSigner: string | undefined;
  auditFailureSink: string | undefined;
  auditDigestStore: string | undefined;
  keyring: string | undefined;
  corsOrigins: string[];
  keyPrefix: string;
  maxBodyBytes: number;
  credentialCacheSeconds: number;
  callerCacheSeconds: number;
  configCheckMs: number;
  requestLogRetentionDays: number;
  auditDigestEvery: number;
  auditDigestMinutes: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  heartbeatMs: number;
  rateLimitCooldownMs: number;
  statsFlushMs: number;
  publicAnalytics: boolean;
}

/** Thrown when the process environment breaks the contract; names the variable, never its value. */
export class EnvError extends Error {
  readonly variable: string;

  constructor(variable: string, reason: string) {
    super(`environment variable ${variable} ${reason}`);
    this.variable = variable;
    this.name = 'EnvError';
  }
}

function read(source: NodeJS.ProcessEnv, key: keyof typeof ENV): string {
  const name = ENV[key];
  const value = source[name] ?? ENV_DEFAULTS[key];
  if (value === undefined || value === '') throw new EnvError(name, 'is required but not set');
  return value;
}

function readOptional(source: NodeJS.ProcessEnv, key: keyof typeof ENV): string | undefined {
  const value = source[ENV[key]];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A value a function needs but {@link readEnv} left optional (table names, keyring).
 * @throws {EnvError} naming the variable when it is missing.
 */
export function requireEnv(
  env: TollgateEnv,
  key:
    | 'keysTable'
    | 'teamsTable'
    | 'providersTable'
    | 'usageTable'
    | 'requestLogTable'
    | 'keyring'
    | 'auditTable'
    | 'auditSigner'
    | 'auditFailureSink'
    | 'auditDigestStore',
): string {
  const value = env[key];
  if (value === undefined) throw new EnvError(ENV[key], 'is required but not set');
  return value;
}

function readPositiveInt(source: NodeJS.ProcessEnv, key: keyof typeof ENV): number {
  const raw = read(source, key);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new EnvError(ENV[key], 'must be a non-negative integer');
  return value;
}

/**
 * Reads and validates the whole contract.
 * @throws {EnvError} when a number is malformed.
 */
export function readEnv(source: NodeJS.ProcessEnv = process.env): TollgateEnv {
  return {
    keysTable: readOptional(source, 'keysTable'),
    teamsTable: readOptional(source, 'teamsTable'),
    providersTable: readOptional(source, 'providersTable'),
    usageTable: readOptional(source, 'usageTable'),
    requestLogTable: readOptional(source, 'requestLogTable'),
    auditTable: readOptional(source, 'auditTable'),
    auditSigner: readOptional(source, 'auditSigner'),
    auditFailureSink: readOptional(source, 'auditFailureSink'),
    auditDigestStore: readOptional(source, 'auditDigestStore'),
    keyring: readOptional(source, 'keyring'),
    corsOrigins: (readOptional(source, 'corsOrigins') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    keyPrefix: read(source, 'keyPrefix'),
    maxBodyBytes: readPositiveInt(source, 'maxBodyBytes'),
    credentialCacheSeconds: readPositiveInt(source, 'credentialCacheSeconds'),
    callerCacheSeconds: readPositiveInt(source, 'callerCacheSeconds'),
    configCheckMs: readPositiveInt(source, 'configCheckMs'),
    requestLogRetentionDays: readPositiveInt(source, 'requestLogRetentionDays'),
    auditDigestEvery: readPositiveInt(source, 'auditDigestEvery'),
    auditDigestMinutes: readPositiveInt(source, 'auditDigestMinutes'),
    firstByteTimeoutMs: readPositiveInt(source, 'firstByteTimeoutMs'),
    idleTimeoutMs: readPositiveInt(source, 'idleTimeoutMs'),
    heartbeatMs: readPositiveInt(source, 'heartbeatMs'),
    rateLimitCooldownMs: readPositiveInt(source, 'rateLimitCooldownMs'),
    statsFlushMs: readPositiveInt(source, 'statsFlushMs'),
    publicAnalytics: read(source, 'publicAnalytics') === 'on',
  };
}
