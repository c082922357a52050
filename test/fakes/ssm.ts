/**
 * A fake of AWS Systems Manager Parameter Store's JSON 1.1 protocol (`X-Amz-Target:
 * AmazonSSM.GetParameter`): the SigV4 signature is recomputed and must match (AWS's
 * `InvalidSignatureException` otherwise), a SecureString's value comes only `WithDecryption`, and errors
 * have AWS's shape (`ParameterNotFound` carries no message).
 */
import { listen, readAll } from '../helpers/http.ts';
import { signatureRefusal } from './sigv4.ts';

export { FAKE_CREDENTIALS } from './sigv4.ts';

/** Starts the fake over SecureString parameters by ARN. */
export async function startFakeSsm(parameters: Record<string, string>) {
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
