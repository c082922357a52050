/**
 * A fake of AWS Systems Manager Parameter Store's JSON 1.1 protocol (`X-Amz-Target:
 * AmazonSSM.GetParameter`): the SigV4 signature is recomputed and must match (AWS's
 * `InvalidSignatureException` otherwise), a SecureString's value comes only `WithDecryption`, and errors
 * have AWS's shape (`ParameterNotFound` carries no message).
 */
import { listen, readAll } from '../helpers/http.ts';
import { type Authorize, deniedMessage, type IamRequest } from '../helpers/iam-policy.ts';
import { signatureRefusal } from './sigv4.ts';

export { FAKE_CREDENTIALS } from './sigv4.ts';

/**
 * Starts the fake over SecureString parameters by ARN.
 * @param options.authorize IAM's decision: `ssm:GetParameter` on the parameter and, with decryption, the
 *   `kms:Decrypt` Parameter Store makes on the caller's behalf under a `customerKey` (its
 *   `kms:ViaService` and `PARAMETER_ARN` context).
 */
export async function startFakeSsm(
  parameters: Record<string, string>,
  options: { authorize?: Authorize; customerKey?: string } = {},
) {
  const calls: Array<{ name: string; withDecryption: boolean }> = [];
  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    const fail = (status: number, type: string, message?: string): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ __type: type, ...(message === undefined ? {} : { message }) }));
    };
    const refusal = await signatureRefusal(req, body, 'ssm');
    if (refusal !== undefined) return fail(refusal.status, refusal.type, refusal.message);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return fail(400, 'SerializationException');
    if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter')
      return fail(400, 'UnknownOperationException');
    const input = JSON.parse(body) as { Name?: string; WithDecryption?: boolean };
    const name = input.Name ?? '';
    calls.push({ name, withDecryption: input.WithDecryption === true });
    const value = parameters[name];
    if (value === undefined) return fail(400, 'ParameterNotFound');
    const asked: IamRequest[] = [{ action: 'ssm:GetParameter', resource: name, context: {} }];
    // Under the AWS managed key (aws/ssm) the key's own policy lets Parameter Store decrypt for the account.
    if (input.WithDecryption === true && options.customerKey !== undefined)
      asked.push({
        action: 'kms:Decrypt',
        resource: options.customerKey,
        context: {
          'kms:ViaService': `ssm.${name.split(':')[3]}.amazonaws.com`,
          'kms:EncryptionContext:PARAMETER_ARN': name,
          'kms:EncryptionContextKeys': ['PARAMETER_ARN'],
        },
      });
    const denied = asked.find((request) => options.authorize?.(request) === false);
    if (denied !== undefined) return fail(400, 'AccessDeniedException', deniedMessage(denied));
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
