/**
 * The gateway's own routes, answered without an upstream: `/v1/key`, `/v1/usage`, `/health`, the OpenAPI
 * document and the docs page (the model catalogue is in `catalogue.ts`).
 */
import { DOCS_PAGE } from '../docs-page.ts';
import { InvalidRequestError, NotFoundError, StorageUnavailableError } from '../errors.ts';
import { type GatewayRequest, type GatewayResponse, jsonResponse } from '../http.ts';
import { openApiDocument } from '../openapi.ts';
import { InvalidError } from '../operations/errors.ts';
import { checkInput } from '../operations/schema.ts';
import { requestQuery, requestQueryShape, shownRequest } from '../operations/usage.ts';
import type { RequestPage } from '../store/request-log.ts';
import { monthOf, shardsFor, shardsToRead } from '../store/shards.ts';
import type { ProviderHealth } from '../store/usage.ts';
import { requireKey } from './caller.ts';
import type { ProxyRuntime } from './context.ts';
import { microsToUsd } from './estimate.ts';

/** The API's version in the OpenAPI document. */
export const API_VERSION = '0.1.0';

/** `GET /v1/key`: this key's own name, team, scope, limits, spend this month and rate-limit state. */
export async function keyInfo(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  const { deps } = rt;
  const presented = await requireKey(deps, req);
  const key = await deps.keys.authenticate(presented.keyId, presented.hash);
  const at = new Date(rt.now());
  const [team, spend, minute] = await Promise.all([
    key.teamId === undefined ? undefined : deps.teams.get(key.teamId),
    deps.meter.monthSpend(`key#${key.keyId}`, at, shardsToRead(key.monthShards)),
    deps.meter.minuteUsage(key.keyId, at, shardsFor(key.monthShards, monthOf(at))),
  ]);
  const teamSpend =
    team === undefined
      ? undefined
      : await deps.meter.monthSpend(`team#${team.teamId}`, at, shardsToRead(team.budgetShards));
  const usd = (micros: number | undefined): number | null =>
    micros === undefined ? null : microsToUsd(micros);
  // The field names of the management API (README, "Field names"): ids `id`, money in USD in `…Usd`.
  return jsonResponse(
    200,
    {
      id: key.keyId,
      name: key.name,
      status: key.status,
      expiresAt: key.expiresAt ?? null,
      models: key.models,
      team:
        team === undefined
          ? null
          : {
              id: team.teamId,
              name: team.name,
              status: team.status,
              budgetUsd: usd(team.budgetMicros),
              spentUsd: usd(teamSpend?.spentMicros),
            },
      limits: { monthlyLimitUsd: usd(key.monthlyLimitMicros), rpm: key.rpm ?? null, tpm: key.tpm ?? null },
      spend: {
        month: spend.month,
        spentUsd: usd(spend.spentMicros),
        reservedUsd: usd(spend.reservedMicros),
      },
      rateLimit: {
        requestsThisMinute: minute.requests,
        tokensThisMinute: minute.tokens,
        remainingRequests: key.rpm === undefined ? null : Math.max(0, key.rpm - minute.requests),
        remainingTokens: key.tpm === undefined ? null : Math.max(0, key.tpm - minute.tokens),
        resetSeconds: minute.resetSeconds,
      },
    },
    { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
  );
}

/** `GET /v1/usage`: this key's usage by day and model, or one of its requests by `?request_id=`. */
export async function usageReport(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  const { deps } = rt;
  const presented = await requireKey(deps, req);
  const key = await deps.keys.authenticate(presented.keyId, presented.hash);
  const requestId = req.query.request_id;
  if (requestId !== undefined) {
    // Request ids are API Gateway's (or the local gateway's) UUIDs: anything else cannot be a key of the log.
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(requestId))
      throw new InvalidRequestError("'request_id' must be a request id (1-128 letters, digits, '-' or '_').");
    const entry = await deps.requestLog.get(requestId);
    // Another key's request is as absent as a request that never was.
    if (entry === undefined || entry.keyId !== key.keyId)
      throw new NotFoundError('GET', `/v1/usage?request_id=${encodeURIComponent(requestId)}`);
    return jsonResponse(200, shownRequest(entry), { 'x-request-id': req.requestId });
  }
  const rows = await deps.usage.forKey(key.keyId);
  return jsonResponse(
    200,
    { object: 'list', keyId: key.keyId, data: rows },
    { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
  );
}

/**
 * `GET /v1/usage/requests`: this key's requests, newest first, a page at a time (`since`, `until`,
 * `status`, `limit`, `cursor`), as `GET /admin/keys/ID/requests` answers them.
 */
export async function usageRequests(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  const { deps } = rt;
  const presented = await requireKey(deps, req);
  const key = await deps.keys.authenticate(presented.keyId, presented.hash);
  let page: RequestPage;
  try {
    page = await deps.requestLog.forKey(key.keyId, requestQuery(checkInput(requestQueryShape, req.query)));
  } catch (err) {
    // The client routes answer in the OpenAI shape; the message names the query parameter.
    if (err instanceof InvalidError) throw new InvalidRequestError(err.message);
    throw err;
  }
  return jsonResponse(
    200,
    {
      object: 'list',
      keyId: key.keyId,
      data: page.requests.map(shownRequest),
      nextCursor: page.nextCursor ?? null,
    },
    { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
  );
}

/** `GET /health` while storage fails: 503 and `degraded`, so a health check notices the dependency. */
function storageDown(err: StorageUnavailableError, req: GatewayRequest): GatewayResponse {
  return jsonResponse(
    503,
    { status: 'degraded', storage: { status: 'unavailable', message: err.message }, providers: [] },
    { ...err.headers, 'x-request-id': req.requestId, 'cache-control': 'no-store' },
  );
}

/**
 * `GET /health`: the storage dependency (read, not assumed: the configuration version bypasses the
 * cache) and each provider's credential count and last recorded error.
 */
export async function health(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  const { deps } = rt;
  let providers: Awaited<ReturnType<typeof deps.providers.list>>;
  let healths: Array<ProviderHealth | undefined>;
  try {
    await deps.providers.refresh?.();
    providers = await deps.providers.list();
    healths = await Promise.all(providers.map((p) => deps.usage.health(p.provider)));
  } catch (err) {
    if (err instanceof StorageUnavailableError) return storageDown(err, req);
    throw err;
  }
  return jsonResponse(
    200,
    {
      status: 'ok',
      storage: { status: 'ok' },
      providers: providers.map((p, i) => ({
        name: p.provider,
        type: p.type,
        credentials: p.credentials,
        lastError:
          healths[i]?.lastErrorClass === undefined
            ? null
            : {
                class: healths[i]?.lastErrorClass,
                status: healths[i]?.lastErrorStatus ?? null,
                at: healths[i]?.lastErrorAt,
              },
        // Ids only: which of the operator's credentials the upstream refused last, never a value.
        rejectedCredentials: (healths[i]?.rejected ?? []).map((r) => ({
          id: r.credentialId,
          status: r.status,
          at: r.at,
        })),
      })),
    },
    { 'x-request-id': req.requestId, 'cache-control': 'no-store' },
  );
}

/** `GET /openapi.json`. */
export async function openapi(_rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  return jsonResponse(200, openApiDocument(API_VERSION), { 'x-request-id': req.requestId });
}

/** `GET /docs`: the API reference page. */
export async function docs(_rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  return {
    status: 200,
    // Everything the page needs is inline; nothing may load from elsewhere.
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      'x-request-id': req.requestId,
    },
    body: DOCS_PAGE,
  };
}
