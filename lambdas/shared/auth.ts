/** The Lambda authorizer's domain logic: format check, one keyed read, and a policy safe to cache. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { InvalidApiKeyError } from './errors.ts';
import type { AuthContext } from './http.ts';
import { keyFromRequest, parseKey } from './keys.ts';
import type { KeyStore } from './store/keys.ts';

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
  keys: KeyStore;
  prefix: string;
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
  const parsed = candidate === undefined ? undefined : parseKey(candidate, deps.prefix);
  if (parsed === undefined) throw new Unauthorized();
  let key: Awaited<ReturnType<KeyStore['authenticate']>>;
  try {
    key = await deps.keys.authenticate(parsed.keyId, parsed.hash);
  } catch (err) {
    if (err instanceof InvalidApiKeyError) throw new Unauthorized();
    throw err;
  }
  return {
    principalId: key.keyId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcardArn(event.methodArn) },
      ],
    },
    context: { keyId: key.keyId, keyName: key.name, models: JSON.stringify(key.models) },
  };
}

/** Reads the authorizer context back out of an API Gateway proxy event's `requestContext.authorizer`. */
export function authContextFrom(
  authorizer: Readonly<Record<string, unknown>> | null | undefined,
): AuthContext | undefined {
  if (authorizer === null || authorizer === undefined) return undefined;
  const { keyId, keyName, models } = authorizer;
  if (typeof keyId !== 'string' || typeof keyName !== 'string' || typeof models !== 'string')
    return undefined;
  const parsed: unknown = JSON.parse(models);
  if (!Array.isArray(parsed) || !parsed.every((m) => typeof m === 'string')) return undefined;
  return { keyId, keyName, models: parsed };
}
