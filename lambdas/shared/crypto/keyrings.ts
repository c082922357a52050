/** The two keyrings behind {@link Keyring}: AWS KMS, and a local master key file for the local gateway. */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
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

/** Data keys from KMS GenerateDataKey, unwrapped with Decrypt under the same encryption context. */
export class KmsKeyring implements Keyring {
  readonly kind = 'kms';
  private readonly keyId: string;
  private readonly client: KMSClient;

  constructor(keyId: string, client: KMSClient = new KMSClient({})) {
    this.keyId = keyId;
    this.client = client;
  }

  async generateDataKey(context: EncryptionContext): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const out = await this.client.send(
      new GenerateDataKeyCommand({
        KeyId: this.keyId,
        KeySpec: 'AES_256',
        EncryptionContext: kmsContext(context),
      }),
    );
    if (out.Plaintext === undefined || out.CiphertextBlob === undefined) {
      throw new Error('KMS GenerateDataKey returned no key material');
    }
    return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    try {
      const out = await this.client.send(
        new DecryptCommand({
          KeyId: this.keyId,
          CiphertextBlob: wrapped,
          EncryptionContext: kmsContext(context),
        }),
      );
      if (out.Plaintext?.length !== 32) throw new DecryptionError('KMS returned no 256-bit key');
      return Buffer.from(out.Plaintext);
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
