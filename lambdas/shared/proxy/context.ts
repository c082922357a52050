/**
 * The proxy's dependencies and the two objects its parts pass around: the runtime (built once per
 * instance) and the call (one per proxied request), so no function needs a long list of parameters.
 */
import { TtlCache } from '../cache.ts';
import type { AuthContext, GatewayRequest } from '../http.ts';
import { logger } from '../log.ts';
import type { MetricsSink } from '../metrics.ts';
import type { RouteSpec } from '../routes.ts';
import type { KeyReader } from '../store/key-reader.ts';
import type { Meter } from '../store/metering.ts';
import type { ProviderStatsStore } from '../store/provider-stats.ts';
import type { Alias, ProviderView, ResolvedProvider } from '../store/providers.ts';
import type { RequestLogStore } from '../store/request-log.ts';
import type { InstallationSettings } from '../store/settings.ts';
import type { TeamReader } from '../store/team-reader.ts';
import type { UsageStore } from '../store/usage.ts';
import type { OperationRequest, OperationSpec } from './operations.ts';
import { type ProviderFigures, StatsAccumulator } from './provider-stats.ts';
import { CredentialCooldowns } from './upstream.ts';

/** Where the proxy finds providers and aliases; the Lambda wraps the store in a cache kept fresh. */
export interface ProviderSource {
  resolve(name: string): Promise<ResolvedProvider | undefined>;
  list(): Promise<ProviderView[]>;
  listAliases(): Promise<Alias[]>;
  /** A cache's check of the configuration version now, after a miss; absent when nothing is cached. */
  refresh?(): Promise<void>;
}

/** Where the proxy reads the installation's settings; the Lambda caches them with the providers. */
export interface SettingsSource {
  get(): Promise<InstallationSettings>;
}

/** Timeouts and intervals, all in milliseconds. */
export interface ProxyTimings {
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  heartbeatMs: number;
  /** How long a rate-limited credential is skipped when the upstream gives no Retry-After. */
  rateLimitCooldownMs: number;
}

/** Everything the proxy needs from the outside world. */
export interface ProxyDeps extends ProxyTimings {
  keys: Pick<KeyReader, 'authenticate' | 'authenticateAlong'>;
  teams: Pick<TeamReader, 'get' | 'ref'>;
  providers: ProviderSource;
  /** The installation's settings (default price, budget), cached like the providers. */
  settings: SettingsSource;
  /**
   * The providers and settings as one request is to see them (a cache's view that compares the
   * configuration version once per request); absent: every request uses `providers` and `settings`.
   */
  configForRequest?: () => Pick<ProxyDeps, 'providers' | 'settings'>;
  usage: Pick<UsageStore, 'record' | 'recordFailure' | 'markRejected' | 'health' | 'forKey'>;
  meter: Pick<Meter, 'admit' | 'settle' | 'monthSpend' | 'minuteUsage'>;
  requestLog: Pick<RequestLogStore, 'put' | 'get' | 'forKey'>;
  /** Per-provider statistics (`/v1/stats/providers`); absent: none are kept. */
  stats?: Pick<ProviderStatsStore, 'add' | 'window'>;
  /** How often an instance writes its statistics; default one minute. */
  statsFlushMs?: number;
  /** Serve aggregate usage at `GET /v1/analytics` (off by default: it is public). */
  publicAnalytics?: boolean;
  /** Browser origins allowed to read responses (CORS); preflight is answered in front of the proxy. */
  corsOrigins?: readonly string[];
  /** Where request and upstream metrics go (EMF in Lambda). */
  metrics?: MetricsSink;
  /**
   * How long an instance keeps a key's checked context on routes API Gateway does not authorize (the
   * authorizer cache's TTL; 0: check on every request). Admission holds it to the key and team as they are.
   */
  callerCacheSeconds?: number;
  /** Imported keys' hashes to key ids (cached by the caller). */
  importedKeys: () => Promise<Record<string, string>>;
  keyPrefix: string;
  maxBodyBytes: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The proxy's dependencies with defaults filled in, and the per-instance state shared by every request. */
export interface ProxyRuntime {
  deps: ProxyDeps;
  now: () => number;
  fetch: typeof fetch;
  cooldowns: CredentialCooldowns;
  /** Callers this instance authenticated itself, by key id and hash (see {@link ProxyDeps.callerCacheSeconds}). */
  callers: TtlCache<string, AuthContext>;
  /** This instance's per-provider counters, when statistics are kept. */
  stats: StatsAccumulator | undefined;
  /** The statistics routes' figures, served from memory for `statsFlushMs` (they cannot be fresher). */
  figures: TtlCache<'all', ProviderFigures[]>;
  /** Records a provider failure for `/health`; never fails the request. */
  recordFailure(provider: string, errorClass: string, status?: number): void;
  /** Marks a credential the upstream refused, for `/health` and `status`; never fails the request. */
  recordRejection(provider: string, rejection: { credentialId: string; status: number }): void;
}

/** Fills in the defaults and builds the per-instance state. */
export function proxyRuntime(deps: ProxyDeps): ProxyRuntime {
  const now = deps.now ?? Date.now;
  return {
    deps,
    now,
    fetch: deps.fetch ?? fetch,
    cooldowns: new CredentialCooldowns(now),
    callers: new TtlCache((deps.callerCacheSeconds ?? 0) * 1000, 10_000, now),
    figures: new TtlCache(deps.statsFlushMs ?? 60_000, 1, now),
    stats:
      deps.stats === undefined
        ? undefined
        : new StatsAccumulator(deps.stats, { flushMs: deps.statsFlushMs ?? 60_000, now }),
    recordFailure(provider, errorClass, status) {
      deps.usage.recordFailure(provider, errorClass, status, new Date(now())).catch((err: unknown) => {
        logger.warn('could not record provider health', { error: (err as Error).name });
      });
    },
    recordRejection(provider, rejection) {
      const at = new Date(now()).toISOString();
      deps.usage.markRejected(provider, { ...rejection, at }).catch((err: unknown) => {
        logger.warn('could not record provider health', { error: (err as Error).name });
      });
    },
  };
}

/** What the request log line reports about a request, filled in as the request proceeds. */
export interface Outcome {
  /** The caller's key, when the proxy authenticated it itself (no authorizer context to log it from). */
  keyId?: string;
  model?: string;
  provider?: string;
  upstreamMs?: number;
}

/** One proxied request, validated: what every step after validation works on. */
export interface ProxiedCall {
  req: GatewayRequest;
  /** What the authorizer established; a proxied call without it is refused before it becomes one. */
  auth: AuthContext;
  route: RouteSpec;
  operation: OperationSpec;
  /** The client's JSON body, without the gateway's own fields (`project_id`). */
  body: Record<string, unknown>;
  /** The project the request named, for the request log. */
  project?: string | undefined;
  request: OperationRequest;
  outcome: Outcome;
}
