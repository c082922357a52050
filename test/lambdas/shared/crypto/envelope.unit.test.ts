/**
 * Envelope encryption with both keyrings: the local master key, and KMS through the lean JSON 1.1 caller
 * against a fake of KMS's wire protocol that checks the signature. Every tampering must fail to decrypt.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptionError, type Envelope, type Keyring, open, seal } from '#shared/crypto/envelope.ts';
import { KmsKeyring, LocalKeyring } from '#shared/crypto/keyrings.ts';
import { startFakeKms } from '../../../fakes/kms.ts';

let kms: Awaited<ReturnType<typeof startFakeKms>>;

beforeAll(async () => {
  kms = await startFakeKms();
});
afterAll(async () => {
  await kms?.close();
});

const SECRET = 'sk-upstream-envelope-secret-123';
const CONTEXT = { provider: 'openai', credentialId: 'cred-1' };

function flipBit(base64: string, byte = 0): string {
  const buf = Buffer.from(base64, 'base64');
  buf[byte] = (buf[byte] ?? 0) ^ 0x01;
  return buf.toString('base64');
}

const keyrings: Array<[string, () => Keyring]> = [
  ['local', () => new LocalKeyring(randomBytes(32))],
  [
    'kms',
    () =>
      new KmsKeyring(kms.keyArn, {
        endpoint: kms.endpoint,
        credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }),
      }),
  ],
];

describe.each(keyrings)('envelope encryption with the %s keyring', (_name, make) => {
  it('round-trips a credential and stores no plaintext', async () => {
    // Prepare
    const keyring = make();

    // Act
    const envelope = await seal(keyring, SECRET, CONTEXT);

    // Assess
    expect(JSON.stringify(envelope)).not.toContain(SECRET);
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
    expect(await open(keyring, envelope, CONTEXT)).toBe(SECRET);
  });

  it('uses a fresh data key and IV for every credential', async () => {
    const keyring = make();
    const a = await seal(keyring, SECRET, CONTEXT);
    const b = await seal(keyring, SECRET, CONTEXT);
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  const tamperings: Array<[string, (e: Envelope) => Envelope]> = [
    ['a flipped IV bit', (e) => ({ ...e, iv: flipBit(e.iv) })],
    ['a flipped tag bit', (e) => ({ ...e, tag: flipBit(e.tag, 5) })],
    ['a flipped ciphertext bit', (e) => ({ ...e, ciphertext: flipBit(e.ciphertext, 3) })],
    ['a flipped wrapped-key bit', (e) => ({ ...e, wrappedKey: flipBit(e.wrappedKey, 20) })],
  ];

  it.each(tamperings)('refuses %s', async (_label, tamper) => {
    const keyring = make();
    const envelope = await seal(keyring, SECRET, CONTEXT);
    await expect(open(keyring, tamper(envelope), CONTEXT)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('refuses a changed encryption context', async () => {
    const keyring = make();
    const envelope = await seal(keyring, SECRET, CONTEXT);
    await expect(open(keyring, envelope, { ...CONTEXT, credentialId: 'cred-2' })).rejects.toBeInstanceOf(
      DecryptionError,
    );
    await expect(open(keyring, envelope, { ...CONTEXT, provider: 'other' })).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  it('refuses a ciphertext swapped in from another credential', async () => {
    // Prepare: two credentials of the same provider.
    const keyring = make();
    const first = await seal(keyring, SECRET, CONTEXT);
    const second = await seal(keyring, 'another-secret', { ...CONTEXT, credentialId: 'cred-2' });

    // Act + Assess: moving either part across credentials fails.
    await expect(open(keyring, { ...first, ciphertext: second.ciphertext }, CONTEXT)).rejects.toBeInstanceOf(
      DecryptionError,
    );
    await expect(open(keyring, second, CONTEXT)).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('keyring binding', () => {
  it('sends the encryption context to KMS on both calls', async () => {
    const keyring = keyrings[1]?.[1]();
    if (keyring === undefined) throw new Error('no kms keyring');
    kms.calls.length = 0;
    await open(keyring, await seal(keyring, SECRET, CONTEXT), CONTEXT);
    expect(kms.calls).toEqual([
      { target: 'TrentService.GenerateDataKey', context: CONTEXT },
      { target: 'TrentService.Decrypt', context: CONTEXT },
    ]);
  });

  it('refuses an envelope sealed by another local master key', async () => {
    const envelope = await seal(new LocalKeyring(randomBytes(32)), SECRET, CONTEXT);
    await expect(open(new LocalKeyring(randomBytes(32)), envelope, CONTEXT)).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });
});
