/**
 * Digest signing: ECDSA over P-256 with SHA-256. In AWS an asymmetric KMS key (`ECC_NIST_P256`,
 * `SIGN_VERIFY`) signs, so the private key never leaves KMS; locally a key pair in the state folder does.
 * Signatures are DER, verifiable by anyone holding only the public key — the scheme CloudTrail uses for
 * its log file validation.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { splitSpec } from '../crypto/keyrings.ts';

/** Signs digests and tells its public key. */
export interface Signer {
  /** Identifies the key in digests (a KMS key ARN, or `local`). */
  readonly keyId: string;
  sign(message: Buffer): Promise<Buffer>;
  /** The public key, PEM (SPKI). */
  publicKeyPem(): Promise<string>;
}

/**
 * Signs with an asymmetric KMS key. The SHA-256 of the message goes to KMS (`MessageType: DIGEST`), not the
 * message: KMS takes at most 4 KB raw, a digest listing 100 record hashes is more; the signature is the same.
 */
export class KmsSigner implements Signer {
  readonly keyId: string;
  private readonly client: KMSClient;

  constructor(keyId: string, client: KMSClient = new KMSClient({})) {
    this.keyId = keyId;
    this.client = client;
  }

  async sign(message: Buffer): Promise<Buffer> {
    const out = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (out.Signature === undefined) throw new Error('KMS Sign returned no signature');
    return Buffer.from(out.Signature);
  }

  async publicKeyPem(): Promise<string> {
    const out = await this.client.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    if (out.PublicKey === undefined) throw new Error('KMS GetPublicKey returned no key');
    return createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
  }
}

/** A P-256 key pair in a folder: `audit-signing.pem` (mode 0600) and `audit-signing.pub.pem`. */
export class LocalSigner implements Signer {
  readonly keyId = 'local';
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the key pair when the folder has none. */
  ensure(): this {
    const privatePath = join(this.dir, 'audit-signing.pem');
    if (!existsSync(privatePath)) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
        mode: 0o600,
        flag: 'wx',
      });
      writeFileSync(
        join(this.dir, 'audit-signing.pub.pem'),
        publicKey.export({ format: 'pem', type: 'spki' }),
        { mode: 0o644 },
      );
    }
    return this;
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign('sha256', message, createPrivateKey(readFileSync(join(this.dir, 'audit-signing.pem'))));
  }

  async publicKeyPem(): Promise<string> {
    return readFileSync(join(this.dir, 'audit-signing.pub.pem'), 'utf8');
  }
}

/** Verifies a DER ECDSA P-256/SHA-256 signature with a PEM public key. */
export function verifySignature(publicKeyPem: string, message: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', message, createPublicKey(publicKeyPem), signature);
  } catch {
    return false;
  }
}

/** Builds the signer named by the env contract: `kms:<key id or ARN>` or `local:<folder>`. */
export function signerFromSpec(spec: string): Signer {
  const [kind, value] = splitSpec(spec);
  if (kind === 'kms') return new KmsSigner(value);
  if (kind === 'local') return new LocalSigner(value).ensure();
  throw new Error("audit signer must be 'kms:<key id>' or 'local:<folder>'");
}
