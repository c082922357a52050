/**
 * Builds the handlers' dependencies from the env contract: clients, stores, keyring and caches. Called
 * once per Lambda instance at cold start (and once by the local gateway), never per request.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { authContextFrom } from './auth.ts';
import { TtlCache } from './cache.ts';
import { keyringFromSpec } from './crypto/keyrings.ts';
import { requireEnv, type TollgateEnv } from './env.ts';
import { type GatewayRequest, normaliseHeaders } from './http.ts';
import { createProxy, type GatewayProxy, type ProviderSource } from './proxy/core.ts';
import { documentClient } from './store/db.ts';
import { KeyStore } from './store/keys.ts';
import { ProviderStore, type ResolvedProvider } from './store/providers.ts';

/** The key store the authorizer reads. */
export function keyStoreFromEnv(env: TollgateEnv): KeyStore {
  return new KeyStore(documentClient(), requireEnv(env, 'keysTable'), env.keyPrefix);
}

/**
 * Wraps a provider store so decrypted credentials live in memory for at most `ttlSeconds`, bounding both
 * KMS calls and how long a removed credential keeps working on a warm instance.
 */
export function cachedProviders(store: ProviderStore, ttlSeconds: number): ProviderSource {
  const cache = new TtlCache<string, ResolvedProvider | undefined>(ttlSeconds * 1000, 256);
  return {
    resolve: async (name) => {
      const hit = cache.get(name);
      if (hit !== undefined) return hit;
      const resolved = await store.resolve(name);
      if (resolved !== undefined) cache.set(name, resolved);
      return resolved;
    },
    list: () => store.list(),
  };
}

/** The management stores (keys, providers) that the CLI and the local gateway's first start use. */
export function storesFromEnv(env: TollgateEnv): { keys: KeyStore; providers: ProviderStore } {
  const db = documentClient();
  return {
    keys: new KeyStore(db, requireEnv(env, 'keysTable'), env.keyPrefix),
    providers: new ProviderStore(
      db,
      requireEnv(env, 'providersTable'),
      keyringFromSpec(requireEnv(env, 'keyring')),
    ),
  };
}

/** The proxy with every dependency built from the environment. */
export function proxyFromEnv(env: TollgateEnv): GatewayProxy {
  const stores = storesFromEnv(env);
  return createProxy({
    keys: stores.keys,
    providers: cachedProviders(stores.providers, env.credentialCacheSeconds),
    keyPrefix: env.keyPrefix,
    maxBodyBytes: env.maxBodyBytes,
    upstreamTimeoutMs: env.upstreamTimeoutMs,
  });
}

/** Decodes an API Gateway REST proxy event into the proxy's request type. */
export function fromApiGatewayEvent(event: APIGatewayProxyEvent, signal: AbortSignal): GatewayRequest {
  const body =
    event.body === null
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  return {
    requestId: event.requestContext.requestId,
    method: event.httpMethod,
    resource: event.resource,
    path: event.path,
    headers: normaliseHeaders(event.headers),
    query,
    body,
    auth: authContextFrom(event.requestContext.authorizer),
    signal,
  };
}
