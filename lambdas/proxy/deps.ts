/** The proxy built once per instance from the env contract, its providers behind a bounded-time cache. */
import type { TollgateEnv } from '#shared/env.ts';
import { emfMetrics } from '#shared/metrics.ts';
import { createProxy, type GatewayProxy } from '#shared/proxy/index.ts';
import { cachedConfig } from '#shared/proxy/provider-cache.ts';
import { importedKeysCache } from '#shared/store/imported-keys.ts';
import { type RequestPathStores, requestPathStores } from '#shared/store/request-path.ts';

/** The proxy with every dependency built from the environment (the stores given, for measuring them). */
export function proxyFromEnv(
  env: TollgateEnv,
  stores: RequestPathStores = requestPathStores(env),
): GatewayProxy {
  const config = cachedConfig(stores, {
    ttlSeconds: env.credentialCacheSeconds,
    checkEveryMs: env.configCheckMs,
  });
  return createProxy({
    keys: stores.keys,
    teams: stores.teams,
    providers: config.providers,
    settings: config.settings,
    configForRequest: config.forRequest,
    usage: stores.usage,
    meter: stores.meter,
    requestLog: stores.requestLog,
    importedKeys: importedKeysCache(stores.keys),
    metrics: emfMetrics,
    corsOrigins: env.corsOrigins,
    keyPrefix: env.keyPrefix,
    callerCacheSeconds: env.callerCacheSeconds,
    maxBodyBytes: env.maxBodyBytes,
    firstByteTimeoutMs: env.firstByteTimeoutMs,
    idleTimeoutMs: env.idleTimeoutMs,
    heartbeatMs: env.heartbeatMs,
    rateLimitCooldownMs: env.rateLimitCooldownMs,
    stats: stores.providerStats,
    statsFlushMs: env.statsFlushMs,
    publicAnalytics: env.publicAnalytics,
  });
}
