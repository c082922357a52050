/**
 * IAM policy evaluation for the fakes of KMS, Secrets Manager and Parameter Store, over a role's statements
 * as the synthesized template states them: an explicit `Deny` wins, else an `Allow` whose action, resource
 * and every condition match, else the implicit deny — as IAM evaluates an identity policy
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). Only the
 * condition operators the stack uses are known; any other makes the evaluation throw, so a new one cannot
 * pass unevaluated.
 */

/** One statement, with the template's intrinsics already resolved. */
export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A request as IAM sees it: the action, the resource's ARN, and the condition keys' values. */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** IAM's `*` (any run) and `?` (any one character), the rest literal. */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** Each operator the stack's statements use: whether the key's values satisfy the listed ones. */
const OPERATORS: Record<string, (actual: string[] | undefined, listed: string[]) => boolean> = {
  // A single-valued key matches when it equals any listed value; a missing key never does.
  StringEquals: (actual, listed) => actual?.some((a) => listed.includes(a)) === true,
  StringLike: (actual, listed) => actual?.some((a) => listed.some((l) => wildcard(l, a))) === true,
  StringNotEquals: (actual, listed) => actual === undefined || actual.every((a) => !listed.includes(a)),
  // Null: "true" matches a missing key, "false" a present one.
  Null: (actual, listed) => listed.includes(actual === undefined ? 'true' : 'false'),
  // Every value of the multi-valued key among the listed (also when it has none: hence the Null checks).
  'ForAllValues:StringEquals': (actual, listed) => (actual ?? []).every((a) => listed.includes(a)),
};

function conditionsHold(condition: Statement['Condition'], context: IamRequest['context']): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    if (test === undefined) throw new Error(`the IAM evaluation here does not know ${operator}`);
    return Object.entries(keys).every(([key, listed]) => {
      const value = context[key];
      return test(value === undefined ? undefined : list(value), list(listed));
    });
  });
}

function matches(statement: Statement, request: IamRequest): boolean {
  return (
    list(statement.Action).some((a) => wildcard(a, request.action, true)) &&
    list(statement.Resource).some((r) => wildcard(r, request.resource)) &&
    conditionsHold(statement.Condition, request.context)
  );
}

/** Whether `statements` allow `request`. */
export function allows(statements: Statement[], request: IamRequest): boolean {
  const applying = statements.filter((s) => matches(s, request));
  return !applying.some((s) => s.Effect === 'Deny') && applying.some((s) => s.Effect === 'Allow');
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The value of a resource's `Ref` (`attribute` undefined) or `Fn::GetAtt`, by logical id. */
export type Lookup = (logicalId: string, attribute?: string) => string;

/**
 * Resolves the template intrinsics a policy uses: `Ref` (pseudo parameters of us-east-1 and account
 * 111122223333, else `lookup`), `Fn::GetAtt` through `lookup`, and `Fn::Join`; anything else throws.
 */
export function resolved(value: Json, lookup: Lookup): Json {
  if (Array.isArray(value)) return value.map((v) => resolved(v, lookup));
  if (value === null || typeof value !== 'object') return value;
  const pseudo: Record<string, string> = {
    'AWS::Region': 'us-east-1',
    'AWS::AccountId': '111122223333',
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if ('Ref' in value) {
    const name = String(value.Ref);
    return pseudo[name] ?? lookup(name);
  }
  if ('Fn::GetAtt' in value) {
    const [id, attribute] = value['Fn::GetAtt'] as [string, string];
    return lookup(id, attribute);
  }
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map((p) => String(resolved(p, lookup))).join(separator);
  }
  const intrinsic = Object.keys(value).find((k) => k.startsWith('Fn::'));
  if (intrinsic !== undefined) throw new Error(`unresolved ${intrinsic}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v, lookup)]));
}

/** Every statement of the policies attached to role `roleId` in a synthesized template, resolved. */
export function roleStatements(
  template: { Resources: Record<string, { Type: string; Properties?: Record<string, Json> }> },
  roleId: string,
  lookup: Lookup,
): Statement[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties?.Roles ?? []).includes(`"Ref":"${roleId}"`))
    .flatMap((r) => {
      const document = r.Properties?.PolicyDocument as { Statement: Json[] };
      return document.Statement.map((s) => resolved(s, lookup) as unknown as Statement);
    });
}

/** Asks whether the caller may make a request; the fakes answer AccessDeniedException when not. */
export type Authorize = (request: IamRequest) => boolean;

/** The message AWS gives an identity-policy denial. */
export const deniedMessage = (request: IamRequest): string =>
  `User: arn:aws:sts::111122223333:assumed-role/proxy/fn is not authorized to perform: ${request.action} on resource: ${request.resource} because no identity-based policy allows the ${request.action} action`;

/** The condition keys KMS sets for an encryption context. */
export function encryptionContextKeys(context: Record<string, string> | undefined): IamRequest['context'] {
  const entries = Object.entries(context ?? {});
  return {
    ...Object.fromEntries(entries.map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    ...(entries.length === 0 ? {} : { 'kms:EncryptionContextKeys': entries.map(([k]) => k) }),
  };
}
