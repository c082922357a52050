/** The deploy configuration, read from `cdk.json` context and validated with errors that name the option. */
import type { App } from 'aws-cdk-lib';
import {
  AWS_LIMITS,
  credentialPolicyChars,
  MAX_BODY_BYTES,
  PROXY_POLICY_BASE_CHARS,
} from '../lib/aws-limits.ts';

/** Everything the stack can be configured with. */
export interface TollgateConfig {
  readonly stageName: string;
  /** Authorizer result cache TTL in seconds (0-3600); 0 disables caching. */
  readonly authorizerCacheTtlSeconds: number;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes: number;
  /** Days of CloudWatch log retention. */
  readonly logRetentionDays: number;
  /** Stage-wide steady-state requests per second and burst. */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** How long decrypted credentials stay in a proxy instance's memory. */
  readonly credentialCacheSeconds: number;
  /** Prefix of issued keys. */
  readonly keyPrefix: string;
  /** Serve the API on this domain with this regional ACM certificate. */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string } | undefined;
  /** A regional WAFv2 web ACL to associate with the API stage. */
  readonly wafWebAclArn?: string | undefined;
  /** Browser origins allowed to call the API (CORS); none when empty. */
  readonly corsOrigins: readonly string[];
  /** Where alarm notifications go (an SNS topic with this e-mail subscribed); none when absent. */
  readonly alarmEmail?: string | undefined;
  /** A signed digest of the audit chain every this many records. */
  readonly auditDigestEvery: number;
  /** A signed digest of the audit chain at least every this many minutes, also when idle. */
  readonly auditDigestMinutes: number;
  /** Days a request-log entry is kept (DynamoDB TTL). */
  readonly requestLogRetentionDays: number;
  /** Upstream response headers must arrive within this. */
  readonly firstByteTimeoutMs: number;
  /** Silence allowed between streamed upstream events. */
  readonly idleTimeoutMs: number;
  /** Silence after which a heartbeat comment goes to the client. */
  readonly heartbeatMs: number;
  /** Secrets Manager secrets the proxy may read as upstream credentials; nothing else is granted. */
  readonly secretArns: readonly string[];
  /** SSM Parameter Store SecureString parameters the proxy may read as upstream credentials; nothing else. */
  readonly parameterArns: readonly string[];
  /** Publish aggregate usage at the public `GET /v1/analytics` (off: it tells anyone the traffic). */
  readonly publicAnalytics: boolean;
  /** The management function's timeout; it must end before its (buffered) integration gives up. */
  readonly adminTimeoutSeconds: number;
}

export const DEFAULT_CONFIG: TollgateConfig = {
  stageName: 'v1',
  authorizerCacheTtlSeconds: 60,
  maxBodyBytes: 1024 * 1024,
  logRetentionDays: 30,
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  credentialCacheSeconds: 300,
  keyPrefix: 'sk-tg-',
  secretArns: [],
  parameterArns: [],
  publicAnalytics: false,
  corsOrigins: [],
  requestLogRetentionDays: 90,
  auditDigestEvery: 100,
  auditDigestMinutes: 15,
  firstByteTimeoutMs: 120_000,
  idleTimeoutMs: 300_000,
  heartbeatMs: 15_000,
  adminTimeoutSeconds: 25,
};

/** A context value that cannot be used; the message names the `tollgate:` option. */
export class ConfigError extends Error {
  constructor(option: string, reason: string) {
    super(`cdk.json context "tollgate:${option}" ${reason}`);
    this.name = 'ConfigError';
  }
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
// A whole parameter ARN: IAM grants name exact parameters, never a path prefix or a wildcard.
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]+$/;

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

type IntOption =
  | 'auditDigestEvery'
  | 'auditDigestMinutes'
  | 'requestLogRetentionDays'
  | 'firstByteTimeoutMs'
  | 'idleTimeoutMs'
  | 'heartbeatMs'
  | 'authorizerCacheTtlSeconds'
  | 'maxBodyBytes'
  | 'throttleRateLimit'
  | 'throttleBurstLimit'
  | 'credentialCacheSeconds'
  | 'adminTimeoutSeconds';

const IDLE_MINUTES = AWS_LIMITS.regionalStreamIdleMs / 60_000;

/**
 * Bounds that come from AWS rather than taste (see lib/aws-limits.ts for the documentation): a value past
 * one deploys fine and then fails in production, so synth refuses it and says which limit it crosses.
 */
const AWS_BOUNDS: Readonly<Partial<Record<IntOption, { max: number; why: string }>>> = {
  firstByteTimeoutMs: {
    max: AWS_LIMITS.regionalStreamIdleMs - 1,
    why: `must be below API Gateway's ${IDLE_MINUTES}-minute idle limit of regional streams (nothing reaches the client before the upstream's first byte)`,
  },
  heartbeatMs: {
    max: AWS_LIMITS.regionalStreamIdleMs - 1,
    why: `must be below API Gateway's ${IDLE_MINUTES}-minute idle limit of regional streams`,
  },
  maxBodyBytes: {
    max: MAX_BODY_BYTES,
    why: `must leave room for the API Gateway event within Lambda's 6 MB synchronous payload: at most ${MAX_BODY_BYTES}`,
  },
  adminTimeoutSeconds: {
    max: AWS_LIMITS.bufferedIntegrationTimeoutMs / 1000 - 1,
    why: `must be below the ${AWS_LIMITS.bufferedIntegrationTimeoutMs / 1000} s timeout of the management API's integration`,
  },
};

function intIn(option: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(option, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Reads `tollgate:*` context keys over the defaults. */
export function loadConfig(app: Pick<App, 'node'>): TollgateConfig {
  const get = (option: string): unknown => app.node.tryGetContext(`tollgate:${option}`);
  const stageName = get('stageName') ?? DEFAULT_CONFIG.stageName;
  if (typeof stageName !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(stageName)) {
    throw new ConfigError('stageName', 'must be 1-64 characters of letters, digits and _');
  }
  const keyPrefix = get('keyPrefix') ?? DEFAULT_CONFIG.keyPrefix;
  if (typeof keyPrefix !== 'string' || !/^[a-z][a-z0-9-]{0,15}$/.test(keyPrefix)) {
    throw new ConfigError('keyPrefix', 'must be 1-16 characters of a-z, 0-9 and -, starting with a letter');
  }
  const logRetentionDays = intIn(
    'logRetentionDays',
    get('logRetentionDays') ?? DEFAULT_CONFIG.logRetentionDays,
    1,
    3653,
  );
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  const int = (option: IntOption, min: number, max: number): number => {
    const value = intIn(option, get(option) ?? DEFAULT_CONFIG[option], min, max);
    const bound = AWS_BOUNDS[option];
    if (bound !== undefined && value > bound.max) throw new ConfigError(option, `${bound.why}, got ${value}`);
    return value;
  };
  const secretArns = get('secretArns') ?? DEFAULT_CONFIG.secretArns;
  if (
    !Array.isArray(secretArns) ||
    !secretArns.every((arn) => typeof arn === 'string' && SECRET_ARN.test(arn))
  ) {
    throw new ConfigError('secretArns', 'must be a list of Secrets Manager secret ARNs');
  }
  const publicAnalytics = get('publicAnalytics') ?? DEFAULT_CONFIG.publicAnalytics;
  if (typeof publicAnalytics !== 'boolean') throw new ConfigError('publicAnalytics', 'must be true or false');
  const parameterArns = get('parameterArns') ?? DEFAULT_CONFIG.parameterArns;
  if (
    !Array.isArray(parameterArns) ||
    !parameterArns.every((arn) => typeof arn === 'string' && PARAMETER_ARN.test(arn))
  ) {
    throw new ConfigError('parameterArns', 'must be a list of SSM parameter ARNs (no wildcards)');
  }
  // IAM refuses a role whose inline policies pass its quota at deploy time, naming no setting: say which.
  const policyChars = PROXY_POLICY_BASE_CHARS + credentialPolicyChars({ secretArns, parameterArns });
  if (policyChars > AWS_LIMITS.rolePolicyChars) {
    throw new ConfigError(
      secretArns.length > 0 ? 'secretArns' : 'parameterArns',
      `with tollgate:parameterArns and tollgate:secretArns, the proxy role's policy would be about ${policyChars} characters, over IAM's ${AWS_LIMITS.rolePolicyChars} for a role's inline policies (whitespace not counted): list fewer ARNs`,
    );
  }
  const customDomain = get('customDomain');
  if (customDomain !== undefined) {
    const d = customDomain as { domainName?: unknown; certificateArn?: unknown };
    if (
      typeof d !== 'object' ||
      d === null ||
      typeof d.domainName !== 'string' ||
      !/^([a-z0-9-]+\.)+[a-z]{2,}$/i.test(d.domainName)
    ) {
      throw new ConfigError(
        'customDomain',
        'must be { "domainName": "llm.example.com", "certificateArn": "arn:aws:acm:…" }',
      );
    }
    if (
      typeof d.certificateArn !== 'string' ||
      !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(d.certificateArn)
    ) {
      throw new ConfigError(
        'customDomain',
        'needs "certificateArn", an ACM certificate ARN in the stack\'s region',
      );
    }
  }
  const wafWebAclArn = get('wafWebAclArn');
  if (
    wafWebAclArn !== undefined &&
    (typeof wafWebAclArn !== 'string' ||
      !/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+/.test(wafWebAclArn))
  ) {
    throw new ConfigError('wafWebAclArn', 'must be a regional WAFv2 web ACL ARN');
  }
  const corsOrigins = get('corsOrigins') ?? DEFAULT_CONFIG.corsOrigins;
  if (
    !Array.isArray(corsOrigins) ||
    !corsOrigins.every((o) => typeof o === 'string' && /^https?:\/\/[^/\s]+$/.test(o))
  ) {
    throw new ConfigError(
      'corsOrigins',
      'must be a list of origins like "https://app.example.com" (scheme and host, no path)',
    );
  }
  const alarmEmail = get('alarmEmail');
  if (
    alarmEmail !== undefined &&
    (typeof alarmEmail !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail))
  ) {
    throw new ConfigError('alarmEmail', 'must be an e-mail address');
  }
  return {
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
    ...(customDomain === undefined ? {} : { customDomain: customDomain as TollgateConfig['customDomain'] }),
    ...(wafWebAclArn === undefined ? {} : { wafWebAclArn: wafWebAclArn as string }),
    corsOrigins,
    stageName,
    secretArns,
    parameterArns,
    publicAnalytics,
    keyPrefix,
    logRetentionDays,
    authorizerCacheTtlSeconds: int('authorizerCacheTtlSeconds', 0, 3600),
    maxBodyBytes: int('maxBodyBytes', 1024, 10 * 1024 * 1024),
    throttleRateLimit: int('throttleRateLimit', 1, 10_000),
    throttleBurstLimit: int('throttleBurstLimit', 1, 5_000),
    credentialCacheSeconds: int('credentialCacheSeconds', 0, 3600),
    requestLogRetentionDays: int('requestLogRetentionDays', 1, 3650),
    auditDigestEvery: int('auditDigestEvery', 1, 100_000),
    auditDigestMinutes: int('auditDigestMinutes', 1, 1440),
    // The proxy's Lambda timeout (15 min) bounds all three.
    firstByteTimeoutMs: int('firstByteTimeoutMs', 1000, 900_000),
    idleTimeoutMs: int('idleTimeoutMs', 1000, 900_000),
    heartbeatMs: int('heartbeatMs', 1000, 900_000),
    adminTimeoutSeconds: int('adminTimeoutSeconds', 1, 900),
  };
}
