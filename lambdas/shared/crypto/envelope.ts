/**
 * Envelope encryption of upstream credentials: a fresh 256-bit data key per credential encrypts it with
 * AES-256-GCM under a random 96-bit IV; the data key itself is wrapped by a {@link Keyring} (KMS in AWS, a
 * local master key in the local gateway). The encryption context `{provider, credentialId}` is bound
 * twice: as the keyring's context and as the GCM additional authenticated data. The stored format is the
 * same for both keyrings.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Binds a ciphertext to the credential it belongs to; moving it elsewhere makes it undecryptable. */
export interface EncryptionContext {
  provider: string;
  credentialId: string;
}

/** Wraps and unwraps data keys. */
export interface Keyring {
  readonly kind: 'kms' | 'local';
  /** A new 32-byte data key and its wrapped form. */
  generateDataKey(context: EncryptionContext): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  /** @throws {DecryptionError} when the wrapped key or context is wrong. */
  unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
}

/** What is stored in DynamoDB. All binary fields are base64. */
export interface Envelope {
  v: 1;
  alg: 'AES-256-GCM';
  keyring: 'kms' | 'local';
  wrappedKey: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Decryption refused: wrong context, tampered bytes or the wrong keyring. Carries no secret material. */
export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`credential decryption failed: ${reason}`);
    this.name = 'DecryptionError';
  }
}

/** Stable serialisation of a context, used as GCM additional data. */
export function canonicalContext(context: EncryptionContext): Buffer {
  return Buffer.from(
    JSON.stringify([
      ['credentialId', context.credentialId],
      ['provider', context.provider],
    ]),
  );
}

/** An AES-256-GCM result: the random IV, the authentication tag and the ciphertext. */
export interface GcmSealed {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** AES-256-GCM with a random IV; returns iv, tag and ciphertext. */
export function gcmEncrypt(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** @throws {DecryptionError} when authentication fails. */
export function gcmDecrypt(key: Buffer, sealed: GcmSealed, aad: Buffer): Buffer {
  const { iv, tag, ciphertext } = sealed;
  if (iv.length !== 12 || tag.length !== 16) throw new DecryptionError('malformed envelope');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new DecryptionError('authentication failed');
  }
}

/** Encrypts one credential under a fresh data key. */
export async function seal(
  keyring: Keyring,
  plaintext: string,
  context: EncryptionContext,
): Promise<Envelope> {
  const dataKey = await keyring.generateDataKey(context);
  try {
    const { iv, tag, ciphertext } = gcmEncrypt(
      dataKey.plaintext,
      Buffer.from(plaintext, 'utf8'),
      canonicalContext(context),
    );
    return {
      v: 1,
      alg: 'AES-256-GCM',
      keyring: keyring.kind,
      wrappedKey: dataKey.wrapped.toString('base64'),
      iv: iv.toString('base64'),
      tag: tag.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  } finally {
    dataKey.plaintext.fill(0);
  }
}

/**
 * Decrypts one credential.
 * @throws {DecryptionError} on any mismatch of context, keyring or bytes.
 */
export async function open(
  keyring: Keyring,
  envelope: Envelope,
  context: EncryptionContext,
): Promise<string> {
  if (envelope.v !== 1 || envelope.alg !== 'AES-256-GCM')
    throw new DecryptionError('unknown envelope version');
  if (envelope.keyring !== keyring.kind)
    throw new DecryptionError(`sealed by the ${envelope.keyring} keyring`);
  const dataKey = await keyring.unwrapDataKey(Buffer.from(envelope.wrappedKey, 'base64'), context);
  try {
    return gcmDecrypt(
      dataKey,
      {
        iv: Buffer.from(envelope.iv, 'base64'),
        tag: Buffer.from(envelope.tag, 'base64'),
        ciphertext: Buffer.from(envelope.ciphertext, 'base64'),
      },
      canonicalContext(context),
    ).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}
