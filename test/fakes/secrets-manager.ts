/**
 * A fake of AWS Secrets Manager's JSON 1.1 protocol (`X-Amz-Target: secretsmanager.GetSecretValue`) for
 * the gateway's lean JSON 1.1 caller and the real `@aws-sdk/client-secrets-manager` alike: the SigV4
 * signature is recomputed and must match, AWS's error shape.
 */
import { listen, readAll } from '../helpers/http.ts';
import { type Authorize, deniedMessage, type IamRequest } from '../helpers/iam-policy.ts';
import { signatureRefusal } from './sigv4.ts';

/**
 * Starts the fake over secrets by full ARN (a partial ARN, without the 6-character suffix, finds its
 * secret too).
 * @param options.authorize IAM's decision: `GetSecretValue` on the secret's full ARN and, for a secret under
 *   `customerKey`, the `kms:Decrypt` Secrets Manager makes on the caller's behalf (its `kms:ViaService` and
 *   `SecretARN`/`SecretVersionId` context).
 */
const VERSION = '00000000-0000-0000-0000-000000000001';

export async function startFakeSecretsManager(
  secrets: Record<string, string>,
  options: { authorize?: Authorize; customerKey?: string } = {},
) {
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
    const id = input.SecretId ?? '';
    const arn = Object.keys(secrets).find(
      (a) => a === id || (a.length === id.length + 7 && a.startsWith(`${id}-`)),
    );
    const value = arn === undefined ? undefined : secrets[arn];
    if (arn === undefined || value === undefined)
      return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const asked: IamRequest[] = [{ action: 'secretsmanager:GetSecretValue', resource: arn, context: {} }];
    if (options.customerKey !== undefined)
      asked.push({
        action: 'kms:Decrypt',
        resource: options.customerKey,
        context: {
          'kms:ViaService': `secretsmanager.${arn.split(':')[3]}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': arn,
          'kms:EncryptionContext:SecretVersionId': VERSION,
          'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'],
        },
      });
    const denied = asked.find((request) => options.authorize?.(request) === false);
    if (denied !== undefined) return fail(400, 'AccessDeniedException', deniedMessage(denied));
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: arn,
        Name: arn.split(':').at(-1)?.slice(0, -7),
        SecretString: value,
        VersionId: VERSION,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_763_900_000,
      }),
    );
  });
  return { endpoint: `http://127.0.0.1:${port}`, calls, close };
}
