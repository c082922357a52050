/**
 * A fake of AWS Secrets Manager's JSON 1.1 protocol (`X-Amz-Target: secretsmanager.GetSecretValue`) for
 * the gateway's lean JSON 1.1 caller and the real `@aws-sdk/client-secrets-manager` alike: the SigV4
 * signature is recomputed and must match, AWS's error shape.
 */
import { listen, readAll } from '../helpers/http.ts';
import { signatureRefusal } from './sigv4.ts';

export async function startFakeSecretsManager(secrets: Record<string, string>) {
  const calls: string[] = [];
  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    const fail = (status: number, type: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ __type: type, message }));
    };
    const refusal = await signatureRefusal(req, body, 'secretsmanager');
    if (refusal !== undefined) return fail(refusal.status, refusal.type, refusal.message);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return fail(400, 'SerializationException', '');
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return fail(400, 'UnknownOperationException', '');
    const input = JSON.parse(body) as { SecretId?: string };
    calls.push(input.SecretId ?? '');
    const value = secrets[input.SecretId ?? ''];
    if (value === undefined)
      return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: input.SecretId,
        Name: String(input.SecretId).split(':').at(-1),
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_763_900_000,
      }),
    );
  });
  return { endpoint: `http://127.0.0.1:${port}`, calls, close };
}
