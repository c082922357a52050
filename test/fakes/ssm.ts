/**
 * A fake of AWS Systems Manager Parameter Store's JSON 1.1 protocol (`X-Amz-Target:
 * AmazonSSM.GetParameter`): the SigV4 signature is recomputed and must match (AWS's
 * `InvalidSignatureException` otherwise), a SecureString's value comes only `WithDecryption`, and errors
 * have AWS's shape (`ParameterNotFound` carries no message).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '#shared/store/parameter-store.ts';
import { listen, readAll } from '../helpers/http.ts';

/** The only credentials the fake accepts. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDFAKESSM', secretAccessKey: 'fake-ssm-secret-key' };

/** Starts the fake over SecureString parameters by ARN. */
export async function startFakeSsm(parameters: Record<string, string>) {
  const calls: Array<{ name: string; withDecryption: boolean }> = [];
  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    const fail = (status: number, type: string, message?: string): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ __type: type, ...(message === undefined ? {} : { message }) }));
    };
    const authorization = String(req.headers.authorization ?? '');
    const parts =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ssm\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (parts === null)
      return fail(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const [, accessKeyId, , region = '', signedHeaders = '', signature] = parts;
    if (accessKeyId !== FAKE_CREDENTIALS.accessKeyId)
      return fail(
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    const headers = Object.fromEntries(
      signedHeaders.split(';').map((name) => [name, String(req.headers[name] ?? '')]),
    );
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const expected = await new SignatureV4({
      service: 'ssm',
      region,
      credentials: FAKE_CREDENTIALS,
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
    if (!String(expected.headers.authorization).endsWith(`Signature=${signature}`))
      return fail(
        400,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return fail(400, 'SerializationException');
    if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter')
      return fail(400, 'UnknownOperationException');
    const input = JSON.parse(body) as { Name?: string; WithDecryption?: boolean };
    const name = input.Name ?? '';
    calls.push({ name, withDecryption: input.WithDecryption === true });
    const value = parameters[name];
    if (value === undefined) return fail(400, 'ParameterNotFound');
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        Parameter: {
          ARN: name,
          Name: `/${name.split(':parameter/').at(-1) ?? ''}`,
          Type: 'SecureString',
          // Without decryption Parameter Store answers with the ciphertext, never the value.
          Value: input.WithDecryption === true ? value : Buffer.from(`ciphertext:${name}`).toString('base64'),
          Version: 1,
          LastModifiedDate: 1_763_900_000,
          DataType: 'text',
        },
      }),
    );
  });
  return { endpoint: `http://127.0.0.1:${port}`, calls, close };
}
