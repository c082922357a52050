/**
 * AWS Signature Version 4 for the lean callers' one kind of request: a `POST /` with no query and a JSON
 * body. What the SDK's signer (`@smithy/signature-v4`) does for it, without its general request model:
 * the same signed headers (with `x-amz-content-sha256`, as the SDK signs it), the signing key derived once
 * a day per secret, region and service. The fakes of KMS, Secrets Manager and Parameter Store and the
 * DynamoDB gate verify every signature with the SDK's signer (test/fakes/sigv4.ts).
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** The credentials a request is signed with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What is signed: where the request goes and what it carries. */
export interface SigningInput {
  credentials: SigningCredentials;
  region: string;
  service: string;
  /** `host[:port]`, as the `host` header carries it. */
  host: string;
  /** Lower-case names; `host`, `x-amz-date` and the token are added. */
  headers: Record<string, string>;
  body: string;
  /** Default: now. */
  at?: Date;
}

const hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

// Keys by day, secret, region and service: one derivation a day instead of four HMACs per call. Kept as
// key objects, which an HMAC takes as they are; a buffer is made into one at every call.
const signingKeys = new Map<string, KeyObject>();

function signingKey(secret: string, scope: { day: string; region: string; service: string }): KeyObject {
  const id = `${scope.day}\n${scope.region}\n${scope.service}\n${secret}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    key = createSecretKey(
      hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.day), scope.region), scope.service), 'aws4_request'),
    );
    if (signingKeys.size >= 50) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/** The request's headers with `host`, `x-amz-date`, `x-amz-content-sha256`, the token and `authorization`. */
export function signedHeaders(input: SigningInput): Record<string, string> {
  const stamp = (input.at ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = stamp.slice(0, 8);
  const payloadHash = hex(input.body);
  const headers: Record<string, string> = {
    ...input.headers,
    host: input.host,
    'x-amz-date': stamp,
    'x-amz-content-sha256': payloadHash,
    ...(input.credentials.sessionToken === undefined
      ? {}
      : { 'x-amz-security-token': input.credentials.sessionToken }),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, hex(canonical)].join('\n');
  const key = signingKey(input.credentials.secretAccessKey, {
    day,
    region: input.region,
    service: input.service,
  });
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return headers;
}
