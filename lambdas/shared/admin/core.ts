/**
 * The management API: a route table over the management operations (lambdas/shared/operations/), the
 * same ones the CLI runs. Every change is attributed to the caller — on AWS the IAM principal API Gateway
 * authenticated with SigV4 — and so audited like any CLI change. Routes live under `/admin`. A small
 * table rather than `@middy/http-router`: the local gateway calls this function directly, without middy.
 */
import { type AuditLog, filterAuditRecords } from '../audit/chain.ts';
import type { Signer } from '../audit/signer.ts';
import { StorageUnavailableError } from '../errors.ts';
import { type GatewayResponse, jsonResponse } from '../http.ts';
import { InvalidError, OperationError } from '../operations/errors.ts';
import {
  createKey,
  deleteKey,
  disableKey,
  enableKey,
  importKeys,
  listKeys,
  rotateKey,
  setKeyShards,
  showKey,
  updateKey,
} from '../operations/keys.ts';
import {
  addCredential,
  addProvider,
  listAliases,
  listCredentials,
  listProviders,
  refreshModels,
  removeAlias,
  removeCredential,
  removeProvider,
  setAlias,
  setPrice,
  updateCredential,
} from '../operations/providers.ts';
import { reconcileReservations } from '../operations/reservations.ts';
import type { ManagementStores, Operation } from '../operations/schema.ts';
import { showSettings, updateSettings } from '../operations/settings.ts';
import {
  createTeam,
  deleteTeam,
  disableTeam,
  enableTeam,
  listTeams,
  setTeamShards,
  showTeam,
  updateTeam,
} from '../operations/teams.ts';
import { keyRequestSummary, listKeyRequests, projectUsage } from '../operations/usage.ts';
import type { Actor } from '../store/attribution.ts';

/** One management request, decoded from API Gateway. */
export interface AdminRequest {
  requestId: string;
  method: string;
  /** Path below `/admin`, e.g. `/keys/AbC123/disable`. */
  path: string;
  query: Readonly<Record<string, string>>;
  body: string | undefined;
  /** The authenticated caller; absent means unauthenticated. */
  actor: Actor | undefined;
}

/** What the management API needs. */
export interface AdminDeps {
  stores: (actor: Actor) => ManagementStores;
  audit: AuditLog;
  signer: Signer;
}

/** A matched request: its path parameters and its JSON body (empty for GET and DELETE). */
interface Matched {
  params: Record<string, string>;
  query: Readonly<Record<string, string>>;
  body: Record<string, unknown>;
}

interface Route {
  method: string;
  /** `/keys/:id/disable`; `:name` segments become input fields. */
  path: string;
  run: (req: Matched, stores: ManagementStores, deps: AdminDeps) => Promise<unknown>;
  status?: number;
}

/**
 * A route over an operation. Its input is the query (GET) or the body, with the path parameters over it;
 * `input` reshapes it where the wire differs.
 */
function route(
  method: string,
  path: string,
  op: Operation,
  options: { status?: number; input?: (req: Matched) => Record<string, unknown> } = {},
): Route {
  return {
    method,
    path,
    ...(options.status === undefined ? {} : { status: options.status }),
    run: (req, stores) =>
      op.prepare(options.input?.(req) ?? { ...(method === 'GET' ? req.query : req.body), ...req.params })(
        stores,
      ),
  };
}

/** Every management route. */
export const ADMIN_ROUTES: readonly Route[] = [
  route('GET', '/keys', listKeys),
  route('POST', '/keys', createKey, { status: 201 }),
  route('POST', '/keys/import', importKeys),
  route('GET', '/keys/:id', showKey),
  route('PATCH', '/keys/:id', updateKey),
  route('DELETE', '/keys/:id', deleteKey),
  route('POST', '/keys/:id/disable', disableKey),
  route('POST', '/keys/:id/enable', enableKey),
  route('POST', '/keys/:id/rotate', rotateKey),
  route('PUT', '/keys/:id/shards', setKeyShards),
  route('GET', '/keys/:id/requests', listKeyRequests),
  route('GET', '/keys/:id/usage', keyRequestSummary),
  route('GET', '/projects/:project/usage', projectUsage),
  route('GET', '/teams', listTeams),
  route('POST', '/teams', createTeam, { status: 201 }),
  route('GET', '/teams/:id', showTeam),
  route('PATCH', '/teams/:id', updateTeam),
  route('DELETE', '/teams/:id', deleteTeam),
  route('POST', '/teams/:id/disable', disableTeam),
  route('POST', '/teams/:id/enable', enableTeam),
  route('PUT', '/teams/:id/shards', setTeamShards),
  route('GET', '/providers', listProviders),
  route('POST', '/providers', addProvider, { status: 201 }),
  route('DELETE', '/providers/:name', removeProvider),
  route('POST', '/providers/:name/models/refresh', refreshModels),
  route('GET', '/providers/:provider/credentials', listCredentials),
  route('POST', '/providers/:provider/credentials', addCredential, {
    status: 201,
    input: (req) => ({ provider: req.params.provider, credential: req.body }),
  }),
  route('PATCH', '/providers/:provider/credentials/:credentialId', updateCredential),
  route('DELETE', '/providers/:provider/credentials/:credentialId', removeCredential),
  route('PUT', '/prices', setPrice),
  route('GET', '/aliases', listAliases),
  route('PUT', '/aliases/:name', setAlias),
  route('DELETE', '/aliases/:name', removeAlias),
  route('POST', '/reservations/reconcile', reconcileReservations),
  route('GET', '/settings', showSettings),
  route('PATCH', '/settings', updateSettings),
  {
    method: 'GET',
    path: '/audit',
    run: async (req, _stores, deps) => filterAuditRecords(await deps.audit.records(), req.query, 'since'),
  },
  {
    method: 'GET',
    path: '/audit/verify',
    run: async (_req, _stores, deps) => deps.audit.verify(await deps.signer.publicKeyPem()),
  },
];

/** The route and its parameters for a method and path; literal segments win over parameters. */
function match(
  method: string,
  parts: readonly string[],
): { route: Route; params: Record<string, string> } | undefined {
  let best: { route: Route; params: Record<string, string>; literals: number } | undefined;
  for (const candidate of ADMIN_ROUTES) {
    const pattern = candidate.path.split('/').filter((p) => p !== '');
    if (candidate.method !== method || pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const fits = pattern.every((segment, i) => {
      const part = parts[i] ?? '';
      if (segment.startsWith(':')) params[segment.slice(1)] = part;
      else if (segment === part) literals++;
      else return false;
      return true;
    });
    if (fits && (best === undefined || literals > best.literals))
      best = { route: candidate, params, literals };
  }
  return best;
}

/** Longest path segment (an id, a name) the management API looks at; no stored id comes close. */
const MAX_SEGMENT_LENGTH = 256;

/** The path's segments, %-decoded; malformed encoding and over-long ids are the caller's mistake (400). */
function segmentsOf(path: string): string[] {
  return path
    .split('/')
    .filter((p) => p !== '')
    .map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch (err) {
        throw new InvalidError('The path is not valid percent-encoding.', { cause: err });
      }
      if (decoded.length > MAX_SEGMENT_LENGTH)
        throw new InvalidError(`A path segment is longer than ${MAX_SEGMENT_LENGTH} characters.`);
      return decoded;
    });
}

function bodyOf(req: AdminRequest): Record<string, unknown> {
  if (req.method === 'GET' || req.method === 'DELETE' || req.body === undefined || req.body === '') return {};
  try {
    const parsed: unknown = JSON.parse(req.body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch (err) {
    throw new InvalidError('The body must be a JSON object.', { cause: err });
  }
  throw new InvalidError('The body must be a JSON object.');
}

/** Routes one management request. Failures of the operations are JSON errors with their status. */
export async function handleAdmin(req: AdminRequest, deps: AdminDeps): Promise<GatewayResponse> {
  const headers = { 'x-request-id': req.requestId };
  const error = (status: number, code: string, message: string) =>
    jsonResponse(status, { error: { code, message } }, headers);
  if (req.actor === undefined)
    return error(403, 'forbidden', 'The management API needs an authenticated caller.');
  let parts: string[];
  try {
    parts = segmentsOf(req.path);
  } catch (err) {
    if (err instanceof OperationError) return jsonResponse(err.status, err.toBody(), headers);
    throw err;
  }
  const found = match(req.method, parts);
  if (found === undefined)
    return error(404, 'not_found', `No management route ${req.method} /admin${req.path}.`);
  try {
    const value = await found.route.run(
      { params: found.params, query: req.query, body: bodyOf(req) },
      deps.stores(req.actor),
      deps,
    );
    return jsonResponse(found.route.status ?? 200, value, headers);
  } catch (err) {
    if (err instanceof OperationError) return jsonResponse(err.status, err.toBody(), headers);
    if (err instanceof StorageUnavailableError)
      return jsonResponse(
        err.status,
        { error: { code: err.code, message: err.message } },
        {
          ...headers,
          ...err.headers,
        },
      );
    throw err;
  }
}
