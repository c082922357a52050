/**
 * API Gateway REST events decoded into the handlers' own request types, and back: the one place that
 * knows the event's shape (nullable maps, base64 bodies, the authorizer's context, the IAM caller).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AdminRequest } from './admin/core.ts';
import { authContextFrom } from './auth.ts';
import { type GatewayRequest, normaliseHeaders } from './http.ts';

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
