/** API Gateway REST events decoded into the proxy's and the management API's request types. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { adminRequestFrom, fromApiGatewayEvent } from '#shared/apigateway.ts';

/** An event as API Gateway delivers it, with nullable maps. */
function event(overrides: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  return {
    resource: '/v1beta/models/{model+}',
    path: '/v1beta/models/gemini:generateContent',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Goog-Api-Key': 'k' },
    multiValueHeaders: {},
    queryStringParameters: {
      alt: 'sse',
      empty: undefined,
    } as unknown as APIGatewayProxyEvent['queryStringParameters'],
    multiValueQueryStringParameters: null,
    pathParameters: { model: 'gemini:generateContent' },
    stageVariables: null,
    body: '{"contents":[]}',
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', authorizer: null, identity: { userArn: null } },
    ...overrides,
  } as unknown as APIGatewayProxyEvent;
}

describe('fromApiGatewayEvent', () => {
  it('lower-cases headers, drops undefined entries and keeps the resource and parameters', () => {
    // Prepare
    const signal = new AbortController().signal;

    // Act
    const req = fromApiGatewayEvent(event({}), signal);

    // Assess
    expect(req).toMatchObject({
      requestId: 'req-1',
      method: 'POST',
      resource: '/v1beta/models/{model+}',
      params: { model: 'gemini:generateContent' },
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
      query: { alt: 'sse' },
      body: '{"contents":[]}',
      auth: undefined,
    });
    expect(req.signal).toBe(signal);
  });

  it('decodes a base64 body and treats a null body as none', () => {
    const encoded = event({ body: Buffer.from('{"a":"é"}').toString('base64'), isBase64Encoded: true });
    expect(fromApiGatewayEvent(encoded, new AbortController().signal).body).toBe('{"a":"é"}');
    expect(fromApiGatewayEvent(event({ body: null }), new AbortController().signal).body).toBeUndefined();
  });
});

describe('adminRequestFrom', () => {
  it('takes the IAM caller as the actor and the path below /admin', () => {
    // Prepare
    const signed = event({
      path: '/admin/keys/AbC',
      httpMethod: 'post',
      requestContext: { requestId: 'r', identity: { userArn: 'arn:aws:iam::1:user/ops' } } as never,
    });

    // Act
    const req = adminRequestFrom(signed);

    // Assess
    expect(req).toMatchObject({
      requestId: 'r',
      method: 'POST',
      path: '/keys/AbC',
      actor: { id: 'arn:aws:iam::1:user/ops' },
    });
  });

  it('has no actor when API Gateway names no caller', () => {
    expect(adminRequestFrom(event({ path: '/admin/keys' })).actor).toBeUndefined();
  });
});
