/**
 * The KMS signer through the real KMS client against the wire-faithful fake: digests larger than KMS's 4 KB
 * raw-message limit are signed (as a SHA-256 DIGEST) and verify with the key's public half alone.
 */
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSigner, verifySignature } from '#shared/audit/signer.ts';
import { startFakeKms } from '../../../fakes/kms.ts';

let kms: Awaited<ReturnType<typeof startFakeKms>>;
let client: KMSClient;

beforeAll(async () => {
  kms = await startFakeKms();
  client = new KMSClient({
    endpoint: kms.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await kms?.close();
});

describe('the KMS signer', () => {
  it('signs a message over 4 KB that verifies with the public key alone, and no other message', async () => {
    // Prepare: a digest's worth of 100 record hashes.
    const message = Buffer.from(
      JSON.stringify({ hashes: Array.from({ length: 100 }, (_, i) => `${i}`.repeat(64)) }),
    );
    const signer = new KmsSigner(kms.signingKeyArn, client);

    // Act
    const signature = await signer.sign(message);
    const publicKey = await signer.publicKeyPem();

    // Assess
    expect(message.length).toBeGreaterThan(4096);
    expect(verifySignature(publicKey, message, signature)).toBe(true);
    expect(verifySignature(publicKey, Buffer.concat([message, Buffer.from(' ')]), signature)).toBe(false);
  });

  it('could not sign the same message raw: KMS refuses raw messages over 4 KB', async () => {
    const refused = await client
      .send(
        new SignCommand({
          KeyId: kms.signingKeyArn,
          Message: Buffer.alloc(4097),
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      )
      .catch((err: unknown) => err as Error);
    expect((refused as Error).name).toBe('ValidationException');
  });
});
