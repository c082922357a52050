/**
 * How AWS's fakes check a request's SigV4 signature: the `Authorization` header is parsed, the signature
 * recomputed over the signed headers with the secret of the caller's access key, and refused with AWS's
 * own error types (an unknown key, a signature that does not match, a date more than 15 minutes off).
 */

import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

type Data = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: Data): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SDK's signer takes. */
export class Sha256 {
  private readonly secret: Data | undefined;
  private hash: Hash | Hmac;

  constructor(secret?: Data) {
    this.secret = secret;
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }

  update(data: Data): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

/** The Parameter Store test's own credentials. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDFAKESSM', secretAccessKey: 'fake-ssm-secret-key' };

/** Secrets by access key id: the local gateway's environment, the SDK tests' clients, and the above. */
const SECRETS: Readonly<Record<string, string>> = {
  local: 'local',
  AKIDTEST: 'test',
  [FAKE_CREDENTIALS.accessKeyId]: FAKE_CREDENTIALS.secretAccessKey,
};

/** Why AWS would refuse the request's signature, as its error type and message; undefined when it holds. */
export async function signatureRefusal(
  req: IncomingMessage,
  body: string,
  service: string,
): Promise<{ status: number; type: string; message: string } | undefined> {
  const parts =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  if (parts === null)
    return {
      status: 400,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  const [, accessKeyId = '', , region = '', scopeService, signedHeaders = '', signature] = parts;
  const secretAccessKey = SECRETS[accessKeyId];
  if (secretAccessKey === undefined)
    return {
      status: 400,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  if (scopeService !== service)
    return {
      status: 400,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${service}'.`,
    };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!(Math.abs(Date.now() - signingDate.getTime()) <= 15 * 60_000))
    return { status: 400, type: 'InvalidSignatureException', message: 'Signature expired.' };
  const headers = Object.fromEntries(
    signedHeaders.split(';').map((name) => [name, String(req.headers[name] ?? '')]),
  );
  const expected = await new SignatureV4({
    service,
    region,
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
  }).sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: req.url ?? '/',
      query: {},
      headers,
      body,
    },
    { signingDate },
  );
  if (String(expected.headers.authorization).endsWith(`Signature=${signature}`)) return undefined;
  return {
    status: 400,
    type: 'InvalidSignatureException',
    message: 'The request signature we calculated does not match the signature you provided.',
  };
}
