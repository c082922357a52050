/** The Lambda authorizer's domain logic: format check, keyed reads, and a policy safe to cache. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { InvalidApiKeyError } from './errors.ts';
import type { AuthContext, Revisions } from './http.ts';
import { hashKey, keyFromRequest, parseKey } from './keys.ts';
import type { KeyReader, KeyView } from './store/key-reader.ts';
import type { EffectiveLimits } from './store/metering.ts';
import type { ShardSpec } from './store/shards.ts';
import type { Team, TeamReader } from './store/team-reader.ts';

/**
 * API Gateway turns an authorizer error whose message is exactly `Unauthorized` into a 401 (the
 * UNAUTHORIZED gateway response); anything else would become a 500.
 */
export class Unauthorized extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'Unauthorized';
  }
}

/** What the authorizer needs. */
export interface AuthorizerDeps {
  keys: Pick<KeyReader, 'authenticate'>;
  teams: Pick<TeamReader, 'get'>;
  prefix: string;
  /** Hashes of imported keys to their key ids; consulted only for keys not in Tollgate's format. */
  importedKeys: () => Promise<Record<string, string>>;
}

/**
 * Finds the key id and hash of a presented key: a Tollgate-format key by its embedded id, with no I/O; a
 * foreign-format (imported) key through the in-memory imported-hash index. Undefined for anything else.
 */
export async function identifyKey(
  candidate: string | undefined,
  prefix: string,
  importedKeys: () => Promise<Record<string, string>>,
): Promise<{ keyId: string; hash: string } | undefined> {
  if (candidate === undefined || candidate === '' || candidate.length > 512) return undefined;
  const parsed = parseKey(candidate, prefix);
  if (parsed !== undefined) return parsed;
  // Something in Tollgate's own format that fails the checksum is a typo or garbage, not a foreign key.
  if (candidate.startsWith(prefix)) return undefined;
  const hash = hashKey(candidate);
  const keyId = (await importedKeys())[hash];
  return keyId === undefined ? undefined : { keyId, hash };
}

/**
 * The policy resource covering every method and path of the stage the request came in on. API Gateway
 * caches the policy per identity and evaluates it for later requests to *other* routes too, so a policy
 * naming only the current method would deny them.
 */
export function stageWildcardArn(methodArn: string): string {
  const [apiPart, stage] = methodArn.split('/');
  if (apiPart === undefined || stage === undefined) throw new Error('malformed methodArn');
  return `${apiPart}/${stage}/*/*`;
}

const withoutHistory = ({ ever: _ever, ...split }: ShardSpec): ShardSpec => split;

/** The limits that apply to a key: its own, and its team's budget. */
export function effectiveLimits(
  key: KeyView,
  team: Pick<Team, 'budgetMicros' | 'budgetShards'> | undefined,
): EffectiveLimits {
  return {
    ...(key.monthlyLimitMicros === undefined ? {} : { monthlyLimitMicros: key.monthlyLimitMicros }),
    // The split's history of counts (`ever`) is for reads over all months, not for admission.
    ...(key.monthShards === undefined ? {} : { keyShards: withoutHistory(key.monthShards) }),
    ...(key.rpm === undefined ? {} : { rpm: key.rpm }),
    ...(key.tpm === undefined ? {} : { tpm: key.tpm }),
    ...(team?.budgetMicros === undefined ? {} : { teamBudgetMicros: team.budgetMicros }),
    ...(team?.budgetShards === undefined ? {} : { teamShards: team.budgetShards }),
  };
}

/** The context of a key and its team: scope, limits, and the revisions they were read at. */
export function authContextOf(key: KeyView, team: Team | undefined): AuthContext {
  return {
    keyId: key.keyId,
    keyName: key.name,
    models: key.models,
    credentials: key.credentials ?? team?.credentials,
    teamId: key.teamId,
    limits: effectiveLimits(key, team),
    revisions: { key: key.rev ?? 0, team: team?.rev ?? 0 },
  };
}

/**
 * The authorizer's check of a presented key: the key itself, then its team, which must be active.
 * @throws {InvalidApiKeyError} for any refusal.
 */
export async function authenticateCaller(
  deps: Pick<AuthorizerDeps, 'keys' | 'teams'>,
  presented: { keyId: string; hash: string },
): Promise<AuthContext> {
  const key = await deps.keys.authenticate(presented.keyId, presented.hash);
  const team = key.teamId === undefined ? undefined : await deps.teams.get(key.teamId);
  // A key of a deleted or disabled team is refused like any other invalid key.
  if (key.teamId !== undefined && team?.status !== 'active') throw new InvalidApiKeyError();
  return authContextOf(key, team);
}

/**
 * Authorizes one request. Malformed keys are refused before any database read.
 * @throws {Unauthorized} for every refusal.
 */
export async function authorizeRequest(
  event: Pick<APIGatewayRequestAuthorizerEvent, 'headers' | 'methodArn' | 'queryStringParameters'>,
  deps: AuthorizerDeps,
): Promise<APIGatewayAuthorizerResult> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const candidate = keyFromRequest(headers, event.queryStringParameters ?? {});
  const parsed = await identifyKey(candidate, deps.prefix, deps.importedKeys);
  if (parsed === undefined) throw new Unauthorized();
  let auth: AuthContext;
  try {
    auth = await authenticateCaller(deps, parsed);
  } catch (err) {
    if (err instanceof InvalidApiKeyError) throw new Unauthorized();
    throw err;
  }
  return {
    principalId: auth.keyId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcardArn(event.methodArn) },
      ],
    },
    context: {
      keyId: auth.keyId,
      keyName: auth.keyName,
      models: JSON.stringify(auth.models),
      // API Gateway's context values are strings; no binding is the empty string.
      credentials: auth.credentials === undefined ? '' : JSON.stringify(auth.credentials),
      teamId: auth.teamId ?? '',
      limits: JSON.stringify(auth.limits),
      revisions: JSON.stringify(auth.revisions),
    },
  };
}

/** Reads the authorizer context back out of an API Gateway proxy event's `requestContext.authorizer`. */
export function authContextFrom(
  authorizer: Readonly<Record<string, unknown>> | null | undefined,
): AuthContext | undefined {
  if (authorizer === null || authorizer === undefined) return undefined;
  const { keyId, keyName, models, credentials, teamId, limits, revisions } = authorizer;
  if (typeof keyId !== 'string' || typeof keyName !== 'string' || typeof models !== 'string')
    return undefined;
  const parsedModels: unknown = JSON.parse(models);
  if (!Array.isArray(parsedModels) || !parsedModels.every((m) => typeof m === 'string')) return undefined;
  const parsedLimits: unknown = typeof limits === 'string' ? JSON.parse(limits) : {};
  return {
    keyId,
    keyName,
    models: parsedModels,
    credentials: labelsFrom(credentials),
    teamId: typeof teamId === 'string' && teamId !== '' ? teamId : undefined,
    limits:
      typeof parsedLimits === 'object' && parsedLimits !== null ? (parsedLimits as EffectiveLimits) : {},
    revisions: revisionsFrom(revisions),
  };
}

function labelsFrom(value: unknown): string[] | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) && parsed.every((l) => typeof l === 'string') ? parsed : undefined;
}

function revisionsFrom(value: unknown): Revisions | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed: unknown = JSON.parse(value);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { key, team } = parsed as Record<string, unknown>;
  return typeof key === 'number' && typeof team === 'number' ? { key, team } : undefined;
}
