/**
 * Builds the handlers' dependencies from the env contract: clients, stores, keyring and caches. Called
 * once per Lambda instance at cold start (and once by the local gateway), never per request.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type AdminDeps, type AdminRequest, handleAdmin } from './admin/core.ts';
import { type AuditorDeps, failureSinkFromSpec } from './audit/auditor.ts';
import { AuditLog } from './audit/chain.ts';
import { signerFromSpec } from './audit/signer.ts';
import { type AuthorizerDeps, authContextFrom } from './auth.ts';
import { TtlCache } from './cache.ts';
import { keyringFromSpec } from './crypto/keyrings.ts';
import { requireEnv, type TollgateEnv } from './env.ts';
import { type GatewayRequest, normaliseHeaders } from './http.ts';
import { logger } from './log.ts';
import { emfMetrics } from './metrics.ts';
import { createProxy, type GatewayProxy, type ProviderSource } from './proxy/core.ts';
import type { Actor } from './store/attribution.ts';
import { documentClient } from './store/db.ts';
import { KeyStore } from './store/keys.ts';
import { Meter } from './store/metering.ts';
import { ProviderStore, type ResolvedProvider, type SecretSource } from './store/providers.ts';
import { RequestLogStore } from './store/request-log.ts';
import { TeamStore } from './store/teams.ts';
import { UsageStore } from './store/usage.ts';

/** What the authorizer reads: keys and teams, nothing else. */
export function authorizerDepsFromEnv(env: TollgateEnv): AuthorizerDeps {
  const db = documentClient();
  const keys = new KeyStore(db, requireEnv(env, 'keysTable'), env.keyPrefix);
  return {
    keys,
    teams: new TeamStore(db, requireEnv(env, 'teamsTable')),
    prefix: env.keyPrefix,
    importedKeys: importedKeysCache(keys),
  };
}

/**
 * Secrets Manager references are read with the function's own IAM role. Locally there is no Secrets
 * Manager: the local keyring refuses them with a clear message.
 */
export function secretSourceFor(
  keyring: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): SecretSource {
  if (keyring.startsWith('local:')) {
    return {
      getSecretValue: async () => {
        throw new Error(
          'Secrets Manager references work only on a deployed stack; locally use --key-stdin or --key-env',
        );
      },
    };
  }
  return {
    async getSecretValue(secretArn) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
      if (out.SecretString === undefined) throw new Error('the secret has no string value');
      return out.SecretString;
    },
  };
}

/**
 * Wraps a provider store so configuration and decrypted credentials live in memory for at most
 * `ttlSeconds`, bounding both KMS calls and how long a removed credential keeps working on a warm instance.
 */
export function cachedProviders(store: ProviderStore, ttlSeconds: number): ProviderSource {
  const resolved = new TtlCache<string, ResolvedProvider>(ttlSeconds * 1000, 256);
  const lists = new TtlCache<'providers', Awaited<ReturnType<ProviderStore['list']>>>(ttlSeconds * 1000, 1);
  const aliases = new TtlCache<'aliases', Awaited<ReturnType<ProviderStore['listAliases']>>>(
    ttlSeconds * 1000,
    1,
  );
  return {
    resolve: async (name) => {
      const hit = resolved.get(name);
      if (hit !== undefined) return hit;
      const fresh = await store.resolve(name);
      if (fresh !== undefined) resolved.set(name, fresh);
      return fresh;
    },
    list: () => lists.getOrLoad('providers', () => store.list()),
    listAliases: () => aliases.getOrLoad('aliases', () => store.listAliases()),
  };
}

/** Every store, built from the env contract; the proxy, the CLI and the local gateway share them. */
export interface TollgateStores {
  keys: KeyStore;
  teams: TeamStore;
  providers: ProviderStore;
  usage: UsageStore;
  meter: Meter;
  requestLog: RequestLogStore;
}

/**
 * The stores the CLI, the local gateway and the proxy use. Only stores given an `actor` may change
 * configuration; the proxy gets none.
 */
export function storesFromEnv(env: TollgateEnv, actor?: Actor): TollgateStores {
  const options = { actor };
  const db = documentClient();
  const keyring = requireEnv(env, 'keyring');
  const tables = {
    keys: requireEnv(env, 'keysTable'),
    teams: requireEnv(env, 'teamsTable'),
    usage: requireEnv(env, 'usageTable'),
  };
  return {
    keys: new KeyStore(db, tables.keys, env.keyPrefix, options),
    teams: new TeamStore(db, tables.teams, options),
    providers: new ProviderStore(
      db,
      requireEnv(env, 'providersTable'),
      keyringFromSpec(keyring),
      secretSourceFor(keyring),
      options,
    ),
    usage: new UsageStore(db, tables.usage),
    meter: new Meter(db, tables),
    requestLog: new RequestLogStore(db, requireEnv(env, 'requestLogTable'), env.requestLogRetentionDays),
  };
}

/** How long an instance trusts its copy of the imported-key index. */
const IMPORTED_INDEX_TTL_MS = 60_000;

/**
 * The imported-key index, read at most once per minute per instance whatever the request volume, so keys
 * of foreign format cost no per-request database read.
 */
export function importedKeysCache(keys: KeyStore): () => Promise<Record<string, string>> {
  const cache = new TtlCache<'index', Record<string, string>>(IMPORTED_INDEX_TTL_MS, 1);
  return () => cache.getOrLoad('index', () => keys.importedIndex());
}

/** The audit processor's dependencies. */
export function auditorFromEnv(env: TollgateEnv): AuditorDeps {
  return {
    log: new AuditLog(documentClient(), requireEnv(env, 'auditTable')),
    signer: signerFromSpec(requireEnv(env, 'auditSigner')),
    sink: failureSinkFromSpec(requireEnv(env, 'auditFailureSink')),
    tables: {
      keys: requireEnv(env, 'keysTable'),
      teams: requireEnv(env, 'teamsTable'),
      providers: requireEnv(env, 'providersTable'),
    },
    digestEvery: env.auditDigestEvery,
  };
}

/** The management API's dependencies: configuration stores attributed to each caller, the audit log. */
export function adminFromEnv(env: TollgateEnv): AdminDeps {
  const db = documentClient();
  const keyring = requireEnv(env, 'keyring');
  return {
    stores: (actor) => ({
      keys: new KeyStore(db, requireEnv(env, 'keysTable'), env.keyPrefix, { actor }),
      teams: new TeamStore(db, requireEnv(env, 'teamsTable'), { actor }),
      providers: new ProviderStore(
        db,
        requireEnv(env, 'providersTable'),
        keyringFromSpec(keyring),
        secretSourceFor(keyring),
        { actor },
      ),
    }),
    audit: new AuditLog(db, requireEnv(env, 'auditTable')),
    signer: signerFromSpec(requireEnv(env, 'auditSigner')),
  };
}

/** An API Gateway map (query string, path parameters) without its undefined entries. */
function definedValues(record: Record<string, string | undefined> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(record ?? {})) if (value !== undefined) out[name] = value;
  return out;
}

/** The request body as text, decoded when API Gateway delivered it base64-encoded. */
function eventBody(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * Decodes a management event. With IAM authorization API Gateway puts the SigV4-verified caller in
 * `identity.userArn`; that ARN becomes the actor of every change the request makes.
 */
export function adminRequestFrom(event: APIGatewayProxyEvent): AdminRequest {
  const arn = event.requestContext.identity?.userArn;
  return {
    requestId: event.requestContext.requestId,
    method: event.httpMethod.toUpperCase(),
    path: event.path.replace(/^\/admin/, ''),
    query: definedValues(event.queryStringParameters),
    body: eventBody(event),
    actor: arn === null || arn === undefined || arn === '' ? undefined : { id: arn },
  };
}

/** Runs one management request; anything unexpected is a 500 without details. */
export async function serveAdmin(req: AdminRequest, deps: AdminDeps): Promise<APIGatewayProxyResult> {
  try {
    const response = await handleAdmin(req, deps);
    return { statusCode: response.status, headers: response.headers, body: String(response.body) };
  } catch (err) {
    logger.error('management API failure', {
      requestId: req.requestId,
      error: (err as Error).name,
      message: (err as Error).message,
    });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json', 'x-request-id': req.requestId },
      body: JSON.stringify({ error: { code: 'internal_error', message: 'Internal error.' } }),
    };
  }
}

/** The proxy with every dependency built from the environment. */
export function proxyFromEnv(env: TollgateEnv): GatewayProxy {
  const stores = storesFromEnv(env);
  return createProxy({
    keys: stores.keys,
    teams: stores.teams,
    providers: cachedProviders(stores.providers, env.credentialCacheSeconds),
    usage: stores.usage,
    meter: stores.meter,
    requestLog: stores.requestLog,
    importedKeys: importedKeysCache(stores.keys),
    metrics: emfMetrics,
    corsOrigins: env.corsOrigins,
    keyPrefix: env.keyPrefix,
    maxBodyBytes: env.maxBodyBytes,
    firstByteTimeoutMs: env.firstByteTimeoutMs,
    idleTimeoutMs: env.idleTimeoutMs,
    heartbeatMs: env.heartbeatMs,
    rateLimitCooldownMs: env.rateLimitCooldownMs,
  });
}

/** Decodes an API Gateway REST proxy event into the proxy's request type. */
export function fromApiGatewayEvent(event: APIGatewayProxyEvent, signal: AbortSignal): GatewayRequest {
  return {
    requestId: event.requestContext.requestId,
    method: event.httpMethod,
    resource: event.resource,
    path: event.path,
    params: definedValues(event.pathParameters),
    headers: normaliseHeaders(event.headers),
    query: definedValues(event.queryStringParameters),
    body: eventBody(event),
    auth: authContextFrom(event.requestContext.authorizer),
    signal,
  };
}
