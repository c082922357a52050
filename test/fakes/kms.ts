/**
 * A fake of AWS KMS's JSON 1.1 wire protocol (`X-Amz-Target: TrentService.*`) on 127.0.0.1, good enough
 * for the real `@aws-sdk/client-kms` to talk to: GenerateDataKey and Decrypt with encryption contexts,
 * AWS's error shape (`__type` plus `x-amzn-ErrorType`), and a SigV4 signature that must match (sigv4.ts).
 * Ciphertext blobs are AES-256-GCM under a key only the fake knows, authenticated with the key id and the
 * encryption context, so a changed context or a tampered blob fails exactly as it does in KMS. An asymmetric
 * `ECC_NIST_P256` key (`signingKeyArn`) answers Sign (ECDSA_SHA_256; a RAW message of at most 4096 bytes, or
 * a 32-byte DIGEST) and GetPublicKey (DER SPKI).
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { listen, readAll } from '../helpers/http.ts';
import { type Authorize, deniedMessage, encryptionContextKeys } from '../helpers/iam-policy.ts';
import { signDigest } from './ecdsa-prehash.ts';
import { signatureRefusal } from './sigv4.ts';

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ __type: type, message }));
}

function aad(keyArn: string, context: Record<string, string> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return Buffer.from(JSON.stringify([keyArn, entries]));
}

/**
 * Starts the fake with one symmetric key.
 * @param options.authorize IAM's decision on each GenerateDataKey, Decrypt, Sign and GetPublicKey
 *   (allowed when absent).
 * @param options.keyArn the symmetric key's ARN.
 */
export async function startFakeKms(options: { authorize?: Authorize; keyArn?: string } = {}) {
  const keyArn =
    options.keyArn ?? 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const secret = randomBytes(32);
  const calls: Array<{ target: string; context: Record<string, string> | undefined }> = [];
  const signingKeyArn = 'arn:aws:kms:us-east-1:111122223333:key/5678efgh-56ef-78gh-90ij-5678901234ef';
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const refusal = await signatureRefusal(req, body, 'kms');
    if (refusal !== undefined) return awsError(res, refusal.status, refusal.type, refusal.message);
    const input = JSON.parse(body) as {
      KeyId?: string;
      KeySpec?: string;
      EncryptionContext?: Record<string, string>;
      CiphertextBlob?: string;
      Message?: string;
      MessageType?: string;
      SigningAlgorithm?: string;
    };
    calls.push({ target, context: input.EncryptionContext });
    const actions: Record<string, { action: string; resource: string }> = {
      'TrentService.GenerateDataKey': { action: 'kms:GenerateDataKey', resource: keyArn },
      'TrentService.Decrypt': { action: 'kms:Decrypt', resource: keyArn },
      'TrentService.Sign': { action: 'kms:Sign', resource: signingKeyArn },
      'TrentService.GetPublicKey': { action: 'kms:GetPublicKey', resource: signingKeyArn },
    };
    const called = actions[target];
    const asked =
      called === undefined
        ? undefined
        : { ...called, context: encryptionContextKeys(input.EncryptionContext) };
    if (asked !== undefined && options.authorize?.(asked) === false)
      return awsError(res, 400, 'AccessDeniedException', deniedMessage(asked));
    const knownKey = (id: string | undefined): boolean =>
      id === keyArn || id === 'alias/tollgate' || id === keyArn.split('/')[1];
    if (target === 'TrentService.GenerateDataKey') {
      if (!knownKey(input.KeyId))
        return awsError(res, 400, 'NotFoundException', `Key '${input.KeyId}' does not exist`);
      if (input.KeySpec !== 'AES_256')
        return awsError(res, 400, 'ValidationException', 'KeySpec must be AES_256 here');
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      cipher.setAAD(aad(keyArn, input.EncryptionContext));
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const blob = Buffer.concat([iv, cipher.getAuthTag(), ct]);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          KeyId: keyArn,
          Plaintext: plaintext.toString('base64'),
          CiphertextBlob: blob.toString('base64'),
        }),
      );
      return;
    }
    if (target === 'TrentService.Decrypt') {
      if (input.KeyId !== undefined && !knownKey(input.KeyId))
        return awsError(
          res,
          400,
          'IncorrectKeyException',
          'The key ID in the request does not identify the key that encrypted the ciphertext.',
        );
      const blob = Buffer.from(input.CiphertextBlob ?? '', 'base64');
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, blob.subarray(0, 12));
        decipher.setAAD(aad(keyArn, input.EncryptionContext));
        decipher.setAuthTag(blob.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({
            KeyId: keyArn,
            Plaintext: plaintext.toString('base64'),
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          }),
        );
      } catch {
        awsError(res, 400, 'InvalidCiphertextException', '');
      }
      return;
    }
    if (target === 'TrentService.Sign' || target === 'TrentService.GetPublicKey') {
      if (input.KeyId !== signingKeyArn)
        return awsError(res, 400, 'NotFoundException', `Key '${input.KeyId}' does not exist`);
      if (target === 'TrentService.GetPublicKey') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        const der = signing.publicKey.export({ format: 'der', type: 'spki' });
        return res.end(JSON.stringify({ KeyId: signingKeyArn, PublicKey: der.toString('base64') }));
      }
    }
    if (target === 'TrentService.Sign') {
      const message = Buffer.from(input.Message ?? '', 'base64');
      if (input.SigningAlgorithm !== 'ECDSA_SHA_256')
        return awsError(res, 400, 'InvalidKeyUsageException', 'ECC_NIST_P256 keys sign with ECDSA_SHA_256');
      const type = input.MessageType ?? 'RAW';
      if (type === 'RAW' && message.length > 4096)
        return awsError(
          res,
          400,
          'ValidationException',
          "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
        );
      if (type === 'DIGEST' && message.length !== 32)
        return awsError(
          res,
          400,
          'ValidationException',
          'Digest is invalid length for algorithm ECDSA_SHA_256.',
        );
      // A DIGEST is signed as is: the signature is the one over the message the digest was made from.
      const signature =
        type === 'DIGEST'
          ? signDigest(message, signing.privateKey)
          : sign('sha256', message, signing.privateKey);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      return res.end(
        JSON.stringify({
          KeyId: signingKeyArn,
          Signature: signature.toString('base64'),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
    }
    awsError(res, 400, 'UnknownOperationException', '');
  });

  return { endpoint: `http://127.0.0.1:${port}`, keyArn, signingKeyArn, calls, close };
}
