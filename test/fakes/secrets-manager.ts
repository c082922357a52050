/**
 * A fake of AWS Secrets Manager's JSON 1.1 protocol (`X-Amz-Target: secretsmanager.GetSecretValue`) for
 * the real `@aws-sdk/client-secrets-manager`: SigV4 header required, AWS's error shape.
 */
import { listen, readAll } from '../helpers/http.ts';

export async function startFakeSecretsManager(secrets: Record<string, string>) {
  const calls: string[] = [];
  const { port, close } = await listen(async (req, res) => {
    const input = JSON.parse(await readAll(req)) as { SecretId?: string };
    const fail = (status: number, type: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ __type: type, message }));
    };
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return fail(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return fail(400, 'UnknownOperationException', '');
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
