/** The two keyrings behind {@link Keyring}: AWS KMS, and a local master key file for the local gateway. */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AWS_JSON_SERVICES,
  type AwsJsonAnswer,
  type AwsJsonOptions,
  awsJsonClient,
  regionOfArn,
} from '../sdk-lean/aws-json.ts';
import {
  canonicalContext,
  DecryptionError,
  type EncryptionContext,
  gcmDecrypt,
  gcmEncrypt,
  type Keyring,
} from './envelope.ts';

function kmsContext(context: EncryptionContext): Record<string, string> {
  return { provider: context.provider, credentialId: context.credentialId };
}

/** A blob field of a JSON 1.1 answer (base64 on the wire). */
function blob(answer: AwsJsonAnswer, field: string): Buffer | undefined {
  const value = answer[field];
  return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
}

/**
 * Data keys from KMS GenerateDataKey, unwrapped with Decrypt under the same encryption context. The key's
 * region is its ARN's, or the function's own (`AWS_REGION`) for a bare key id or alias.
 */
export class KmsKeyring implements Keyring {
  readonly kind = 'kms';
  private readonly keyId: string;
  private readonly region: string;
  private readonly call: ReturnType<typeof awsJsonClient>;

  constructor(keyId: string, options: AwsJsonOptions & { region?: string } = {}) {
    this.keyId = keyId;
    this.region = keyId.startsWith('arn:')
      ? regionOfArn(keyId)
      : (options.region ?? process.env.AWS_REGION ?? '');
    this.call = awsJsonClient(AWS_JSON_SERVICES.kms, options);
  }

  async generateDataKey(context: EncryptionContext): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const out = await this.call({
      region: this.region,
      operation: 'GenerateDataKey',
      input: { KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: kmsContext(context) },
    });
    const plaintext = blob(out, 'Plaintext');
    const wrapped = blob(out, 'CiphertextBlob');
    if (plaintext === undefined || wrapped === undefined) {
      throw new Error('KMS GenerateDataKey returned no key material');
    }
    return { plaintext, wrapped };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    try {
      const out = await this.call({
        region: this.region,
        operation: 'Decrypt',
        input: {
          KeyId: this.keyId,
          CiphertextBlob: wrapped.toString('base64'),
          EncryptionContext: kmsContext(context),
        },
      });
      const plaintext = blob(out, 'Plaintext');
      if (plaintext?.length !== 32) throw new DecryptionError('KMS returned no 256-bit key');
      return plaintext;
    } catch (err) {
      if (
        err instanceof Error &&
        (err.name === 'InvalidCiphertextException' || err.name === 'IncorrectKeyException')
      ) {
        throw new DecryptionError(err.name);
      }
      throw err;
    }
  }
}

/** A 256-bit master key in the state folder wraps data keys with AES-256-GCM, bound to the context. */
export class LocalKeyring implements Keyring {
  readonly kind = 'local';
  private readonly masterKey: Buffer;

  constructor(masterKey: Buffer) {
    this.masterKey = masterKey;
    if (masterKey.length !== 32) throw new Error('the local master key must be 32 bytes');
  }

  /** Reads the master key file written by the local gateway. */
  static fromFile(path: string): LocalKeyring {
    return new LocalKeyring(readFileSync(path));
  }

  async generateDataKey(context: EncryptionContext): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const plaintext = randomBytes(32);
    const { iv, tag, ciphertext } = gcmEncrypt(this.masterKey, plaintext, canonicalContext(context));
    return { plaintext, wrapped: Buffer.concat([iv, tag, ciphertext]) };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (wrapped.length !== 12 + 16 + 32) throw new DecryptionError('malformed wrapped key');
    return gcmDecrypt(
      this.masterKey,
      { iv: wrapped.subarray(0, 12), tag: wrapped.subarray(12, 28), ciphertext: wrapped.subarray(28) },
      canonicalContext(context),
    );
  }
}

/**
 * Builds the keyring named by the `TOLLGATE_KEYRING` contract: `kms:<key id or ARN>` or `local:<path>`.
 */
export function keyringFromSpec(spec: string): Keyring {
  const [kind, value] = splitSpec(spec);
  if (kind === 'kms') return new KmsKeyring(value);
  if (kind === 'local') return LocalKeyring.fromFile(value);
  throw new Error("keyring must be 'kms:<key id>' or 'local:<master key path>'");
}

/** Splits an env-contract spec `kind:value` (`kms:arn…`, `local:/path`, `sqs:https://…`); empty strings when malformed. */
export function splitSpec(spec: string): [string, string] {
  const colon = spec.indexOf(':');
  return colon > 0 && colon < spec.length - 1 ? [spec.slice(0, colon), spec.slice(colon + 1)] : ['', ''];
}
