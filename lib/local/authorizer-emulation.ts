/**
 * Evaluates a REQUEST Lambda authorizer the way API Gateway does: a request without the identity source
 * gets 401 without invoking the authorizer; the authorizer's result is cached per identity-source value
 * for the TTL and its *policy* is re-evaluated against each request's method ARN (so a policy that names
 * only one route denies the others from cache); a thrown `Unauthorized` is a 401, any other failure a 500,
 * an explicit Deny or a missing Allow a 403-class denial (the ACCESS_DENIED gateway response), a context
 * value that is not a string, number or boolean an authorizer configuration error (500).
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { TtlCache } from '#shared/cache.ts';

/** The outcome API Gateway acts on. */
export type AuthorizerDecision =
  | { effect: 'allow'; principalId: string; context: Record<string, string> }
  | { effect: 'unauthorized' | 'access_denied' | 'failure' | 'configuration_error' };

type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

/** Glob matching of IAM resource patterns: `*` any run of characters, `?` one character. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(arn);
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Applies a policy document to one method ARN: explicit Deny wins, then any Allow, else denied. */
export function evaluatePolicy(result: APIGatewayAuthorizerResult, methodArn: string): 'allow' | 'deny' {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const actions = asList('Action' in statement ? statement.Action : undefined);
    const resources = asList('Resource' in statement ? statement.Resource : undefined);
    const actionMatches = actions.some(
      (a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke',
    );
    if (!actionMatches || !resources.some((r) => arnMatches(r, methodArn))) continue;
    if (statement.Effect === 'Deny') return 'deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}

/** Options of the emulated authorizer. */
export interface AuthorizerEmulatorOptions {
  /** Lower-case header names forming the identity source; all must be present (API Gateway ANDs them). */
  identityHeaders: readonly string[];
  /** Result cache TTL in seconds; 0 disables caching. */
  ttlSeconds: number;
  now?: () => number;
}

/** One authorizer as API Gateway runs it. */
export class AuthorizerEmulator {
  private readonly handler: AuthorizerHandler;
  private readonly options: AuthorizerEmulatorOptions;
  private readonly cache: TtlCache<string, APIGatewayAuthorizerResult>;
  /** How many times the authorizer Lambda ran; tests use it to observe caching. */
  invocations = 0;

  constructor(handler: AuthorizerHandler, options: AuthorizerEmulatorOptions) {
    this.handler = handler;
    this.options = options;
    this.cache = new TtlCache(options.ttlSeconds * 1000, 10_000, options.now);
  }

  /** Decides one request. */
  async decide(event: APIGatewayRequestAuthorizerEvent, context: Context): Promise<AuthorizerDecision> {
    const headers = new Map(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const identity = this.options.identityHeaders.map((name) => headers.get(name));
    if (identity.some((value) => value === undefined || value === '')) return { effect: 'unauthorized' };
    const cacheKey = JSON.stringify(identity);
    let result = this.cache.get(cacheKey);
    if (result === undefined) {
      try {
        this.invocations += 1;
        result = await this.handler(event, context);
      } catch (err) {
        return {
          effect: err instanceof Error && err.message === 'Unauthorized' ? 'unauthorized' : 'failure',
        };
      }
      this.cache.set(cacheKey, result);
    }
    if (evaluatePolicy(result, event.methodArn) === 'deny') return { effect: 'access_denied' };
    const context_: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.context ?? {})) {
      if (value === null || value === undefined) continue;
      // API Gateway takes only strings, numbers and booleans; anything else fails the whole request.
      if (!['string', 'number', 'boolean'].includes(typeof value)) return { effect: 'configuration_error' };
      context_[name] = String(value);
    }
    return { effect: 'allow', principalId: result.principalId, context: context_ };
  }
}
