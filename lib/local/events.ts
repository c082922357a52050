/** Builds API Gateway REST (v1 payload) events from local HTTP requests, as API Gateway would. */
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';

/** The parts of an incoming request that events are built from. */
export interface IncomingParts {
  requestId: string;
  method: string;
  /** Path without query string. */
  path: string;
  /** The matched API Gateway resource path. */
  resource: string;
  params: Record<string, string>;
  /** The last value of each header. */
  headers: Record<string, string>;
  /** Every value of each header, in order; `headers`' values alone when absent. */
  multiValueHeaders?: Record<string, string[]>;
  query: URLSearchParams;
  body: Buffer;
  sourceIp: string;
  stage: string;
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_API_ID = 'local';
export const LOCAL_REGION = 'local';

/** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}{path}`, as API Gateway builds it. */
export function methodArn(parts: IncomingParts): string {
  return `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${LOCAL_API_ID}/${parts.stage}/${parts.method}${parts.path}`;
}

/** `headers` holds each header's last value, `multiValueHeaders` all of them, as API Gateway fills them. */
function singleAndMulti(parts: IncomingParts): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(parts.headers))
    multi[name] = parts.multiValueHeaders?.[name] ?? [value];
  return { single: { ...parts.headers }, multi };
}

function queryMaps(query: URLSearchParams): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of query) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

function requestContext(parts: IncomingParts, authorizer: Record<string, unknown> | null) {
  return {
    accountId: LOCAL_ACCOUNT,
    apiId: LOCAL_API_ID,
    authorizer,
    domainName: '127.0.0.1',
    domainPrefix: '127',
    httpMethod: parts.method,
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: parts.sourceIp,
      user: null,
      userAgent: parts.headers['user-agent'] ?? null,
      userArn: null,
    },
    path: `/${parts.stage}${parts.path}`,
    protocol: 'HTTP/1.1',
    requestId: parts.requestId,
    requestTimeEpoch: Date.now(),
    resourceId: 'local',
    resourcePath: parts.resource,
    stage: parts.stage,
  };
}

/** The REQUEST authorizer event for a request. */
export function authorizerEvent(parts: IncomingParts): APIGatewayRequestAuthorizerEvent {
  const headers = singleAndMulti(parts);
  const query = queryMaps(parts.query);
  return {
    type: 'REQUEST',
    methodArn: methodArn(parts),
    resource: parts.resource,
    path: parts.path,
    httpMethod: parts.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    pathParameters: parts.params,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    stageVariables: null,
    requestContext: requestContext(
      parts,
      null,
    ) as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/**
 * The proxy integration event. `authorizer` is the authorizer's context plus `principalId`, with every
 * value a string, as API Gateway delivers it.
 */
export function proxyEvent(
  parts: IncomingParts,
  authorizer: Record<string, string> | null,
): APIGatewayProxyEvent {
  const headers = singleAndMulti(parts);
  const query = queryMaps(parts.query);
  return {
    resource: parts.resource,
    path: parts.path,
    httpMethod: parts.method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: Object.keys(parts.params).length === 0 ? null : parts.params,
    stageVariables: null,
    requestContext: requestContext(parts, authorizer) as unknown as APIGatewayProxyEvent['requestContext'],
    // The stack configures no binary media types, so API Gateway passes every body as text.
    body: parts.body.length === 0 ? null : parts.body.toString('utf8'),
    isBase64Encoded: false,
  };
}
