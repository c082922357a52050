/**
 * The management API: the CLI's operations over HTTP, on the same stores and input rules. Every change is
 * attributed to the caller — on AWS the IAM principal API Gateway authenticated with SigV4 — and so
 * audited like any CLI change. Routes live under `/admin`.
 */
import { type AuditLog, filterAuditRecords } from '../audit/chain.ts';
import type { Signer } from '../audit/signer.ts';
import { type GatewayResponse, jsonResponse } from '../http.ts';
import { InputError, parseDuration, parseFutureDate, parseLimits, usdToMicros } from '../inputs.ts';
import type { Actor } from '../store/attribution.ts';
import { RecordExistsError, RecordNotFoundError } from '../store/db.ts';
import type { TollgateStores } from '../store/stores.ts';

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
  stores: (
    actor: Actor,
  ) => Omit<TollgateStores, 'usage' | 'meter' | 'requestLog'> & Partial<Pick<TollgateStores, 'meter'>>;
  audit: AuditLog;
  signer: Signer;
}

class AdminError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function body(req: AdminRequest): Record<string, unknown> {
  if (req.body === undefined || req.body === '') return {};
  try {
    const parsed: unknown = JSON.parse(req.body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Reported below like any other malformed body.
  }
  throw new AdminError(400, 'invalid_request', 'The body must be a JSON object.');
}

const str = (value: unknown, name: string): string => {
  if (typeof value !== 'string' || value.trim() === '')
    throw new AdminError(400, 'invalid_request', `'${name}' must be a non-empty string.`);
  return value.trim();
};
const optStr = (value: unknown, name: string): string | undefined =>
  value === undefined || value === null ? undefined : str(value, name);
const strList = (value: unknown, name: string): string[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new AdminError(400, 'invalid_request', `'${name}' must be a list of strings.`);
  return value;
};

/** Routes one management request. Never throws: failures are JSON errors with their status. */
export async function handleAdmin(req: AdminRequest, deps: AdminDeps): Promise<GatewayResponse> {
  const headers = { 'x-request-id': req.requestId };
  const ok = (status: number, value: unknown) => jsonResponse(status, value, headers);
  try {
    if (req.actor === undefined)
      throw new AdminError(403, 'forbidden', 'The management API needs an authenticated caller.');
    const stores = deps.stores(req.actor);
    const parts = req.path
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const [collection, id, action, sub] = parts;
    const b = req.method === 'GET' || req.method === 'DELETE' ? {} : body(req);
    // `audit/verify` is a fixed path, not an id.
    const idPart = id === undefined ? '' : collection === 'audit' && id === 'verify' ? 'verify' : ':id';
    const route = `${req.method} ${[collection, idPart, action ?? '', sub === undefined ? '' : ':sub'].filter((p) => p !== '').join('/')}`;
    switch (route) {
      case 'GET keys':
        return ok(
          200,
          await stores.keys.list(req.query.team === undefined ? {} : { teamId: req.query.team }),
        );
      case 'POST keys': {
        const teamId = optStr(b.team, 'team');
        if (teamId !== undefined && (await stores.teams.get(teamId)) === undefined)
          throw new AdminError(400, 'invalid_request', `No team '${teamId}'.`);
        const expires = optStr(b.expires, 'expires');
        const created = await stores.keys.create({
          name: str(b.name, 'name'),
          models: strList(b.models, 'models'),
          ...parseLimits(
            {
              monthlyLimit: b.monthlyLimitUsd as number | undefined,
              rpm: b.rpm as number | undefined,
              tpm: b.tpm as number | undefined,
            },
            { monthlyLimit: 'monthlyLimitUsd', rpm: 'rpm', tpm: 'tpm' },
          ),
          ...(teamId === undefined ? {} : { teamId }),
          ...(expires === undefined ? {} : { expiresAt: parseFutureDate(expires, 'expires') }),
        });
        // The plaintext appears in this response only.
        return ok(201, { id: created.key.keyId, key: created.plaintext, ...created.key });
      }
      case 'GET keys/:id':
        return ok(200, await stores.keys.require(id ?? ''));
      case 'DELETE keys/:id':
        await stores.keys.delete(id ?? '');
        return ok(200, { id, deleted: true });
      case 'POST keys/:id/disable':
      case 'POST keys/:id/enable':
        return ok(200, await stores.keys.setStatus(id ?? '', action === 'disable' ? 'disabled' : 'active'));
      case 'POST keys/:id/rotate': {
        const grace = optStr(b.grace, 'grace');
        const rotated = await stores.keys.rotate(
          id ?? '',
          grace === undefined ? 0 : parseDuration(grace, 'grace'),
        );
        return ok(200, { id: rotated.key.keyId, key: rotated.plaintext, ...rotated.key });
      }
      case 'GET teams':
        return ok(200, await stores.teams.list());
      case 'POST teams': {
        const budget = b.budgetUsd === undefined ? undefined : Number(b.budgetUsd);
        if (budget !== undefined && !(Number.isFinite(budget) && budget > 0))
          throw new AdminError(400, 'invalid_request', "'budgetUsd' must be a positive number.");
        return ok(
          201,
          await stores.teams.create(
            str(b.name, 'name'),
            budget === undefined ? undefined : usdToMicros(budget),
          ),
        );
      }
      case 'GET teams/:id':
        return ok(200, await stores.teams.require(id ?? ''));
      case 'POST teams/:id/disable':
      case 'POST teams/:id/enable':
        return ok(200, await stores.teams.setStatus(id ?? '', action === 'disable' ? 'disabled' : 'active'));
      case 'DELETE teams/:id': {
        const keys = await stores.keys.list({ teamId: id ?? '' });
        if (keys.length > 0)
          throw new AdminError(409, 'conflict', `Team ${id} still has ${keys.length} key(s).`);
        await stores.teams.delete(id ?? '');
        return ok(200, { teamId: id, deleted: true });
      }
      case 'GET providers':
        return ok(200, await stores.providers.list());
      case 'POST providers': {
        const credential = b.credential as { secret?: unknown; secretArn?: unknown } | undefined;
        const created = await stores.providers.add(
          {
            name: str(b.name, 'name'),
            type: str(b.type, 'type'),
            baseUrl: str(b.baseUrl, 'baseUrl'),
            models: strList(b.models, 'models'),
          },
          {
            ...(typeof credential?.secret === 'string' ? { secret: credential.secret } : {}),
            ...(typeof credential?.secretArn === 'string' ? { secretArn: credential.secretArn } : {}),
          },
        );
        return ok(201, created);
      }
      case 'DELETE providers/:id':
        await stores.providers.remove(id ?? '');
        return ok(200, { provider: id, removed: true });
      case 'GET providers/:id/credentials':
        return ok(200, await stores.providers.listCredentials(id ?? ''));
      case 'POST providers/:id/credentials': {
        const expires = optStr(b.expires, 'expires');
        return ok(
          201,
          await stores.providers.addCredential(id ?? '', {
            ...(typeof b.secret === 'string' ? { secret: b.secret } : {}),
            ...(typeof b.secretArn === 'string' ? { secretArn: b.secretArn } : {}),
            ...(typeof b.priority === 'number' ? { priority: b.priority } : {}),
            ...(expires === undefined ? {} : { expiresAt: parseFutureDate(expires, 'expires') }),
          }),
        );
      }
      case 'DELETE providers/:id/credentials/:sub':
        await stores.providers.removeCredential(id ?? '', sub ?? '');
        return ok(200, { provider: id, credentialId: sub, removed: true });
      case 'GET audit':
        return ok(200, filterAuditRecords(await deps.audit.records(), req.query, 'since'));
      case 'GET audit/verify':
        return ok(200, await deps.audit.verify(await deps.signer.publicKeyPem()));
      default:
        throw new AdminError(404, 'not_found', `No management route ${req.method} /admin${req.path}.`);
    }
  } catch (err) {
    if (err instanceof AdminError) return ok(err.status, { error: { code: err.code, message: err.message } });
    if (err instanceof RecordNotFoundError)
      return ok(404, { error: { code: 'not_found', message: err.message } });
    if (err instanceof RecordExistsError)
      return ok(409, { error: { code: 'conflict', message: err.message } });
    if (err instanceof InputError)
      return ok(400, { error: { code: 'invalid_request', message: err.message } });
    // Store validations (names, URLs, prices) speak plain sentences meant for the operator.
    if (err instanceof Error && err.name === 'Error')
      return ok(400, { error: { code: 'invalid_request', message: err.message } });
    throw err;
  }
}
