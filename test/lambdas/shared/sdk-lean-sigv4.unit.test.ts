/**
 * The lean callers' SigV4 signer against the SDK's own (`@smithy/signature-v4`), for the requests they
 * make: the same `Authorization` header, byte for byte, across services, regions, partitions, ports,
 * session tokens, bodies and days.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signedHeaders } from '#shared/sdk-lean/sigv4.ts';
import { Sha256 } from '../../fakes/sigv4.ts';

const CASES = [
  { service: 'dynamodb', region: 'us-east-1', host: 'dynamodb.us-east-1.amazonaws.com', token: undefined },
  { service: 'dynamodb', region: 'eu-west-1', host: '127.0.0.1:8000', token: 'session/token+with=chars' },
  { service: 'kms', region: 'cn-north-1', host: 'kms.cn-north-1.amazonaws.com.cn', token: 'token-2' },
  { service: 'secretsmanager', region: 'us-gov-west-1', host: 'secretsmanager.us-gov-west-1.amazonaws.com' },
] as const;

const BODIES = ['{}', JSON.stringify({ TableName: 't', Key: { pk: { S: 'héllo ✓' } } }), 'x'.repeat(70_000)];

/** The SDK's `Authorization` header for the same request. */
async function bySdk(input: {
  service: string;
  region: string;
  host: string;
  token?: string;
  body: string;
  at: Date;
}): Promise<string> {
  const [hostname = '', port] = input.host.split(':');
  const signed = await new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      ...(input.token === undefined ? {} : { sessionToken: input.token }),
    },
    sha256: Sha256,
  }).sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname,
      ...(port === undefined ? {} : { port: Number(port) }),
      path: '/',
      query: {},
      headers: {
        host: input.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
      },
      body: input.body,
    },
    { signingDate: input.at },
  );
  return String(signed.headers.authorization);
}

describe('the lean SigV4 signer', () => {
  it.each(CASES)("signs $service in $region exactly as the SDK's signer does", async (target) => {
    const token = 'token' in target ? target.token : undefined;
    for (const body of BODIES) {
      for (const at of [new Date('2026-12-07T09:30:00.123Z'), new Date('2027-01-01T00:00:00Z')]) {
        const headers = signedHeaders({
          credentials: {
            accessKeyId: 'AKIDEXAMPLE',
            secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
            ...(token === undefined ? {} : { sessionToken: token }),
          },
          region: target.region,
          service: target.service,
          host: target.host,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'DynamoDB_20120810.GetItem',
          },
          body,
          at,
        });
        expect(headers.authorization).toBe(await bySdk({ ...target, token, body, at }));
        expect(headers['x-amz-date']).toBe(at.toISOString().replace(/[-:]|\.\d{3}/g, ''));
        if (token !== undefined) expect(headers['x-amz-security-token']).toBe(token);
      }
    }
  });
});
