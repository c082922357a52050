/**
 * Secrets Manager references as a credential source: the lean JSON 1.1 caller against a fake of the
 * service's wire protocol that checks the signature, the store on DynamoDB Local, and the bounded-time
 * cache in front of both.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#shared/crypto/keyrings.ts';
import { cachedProviders } from '#shared/proxy/provider-cache.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { credentialFromSecretString, ProviderStore } from '#shared/store/providers.ts';
import { secretSourceFor } from '#shared/store/secrets-manager.ts';
import { startFakeSecretsManager } from '../../../fakes/secrets-manager.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

const PLAIN_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/openai-AbCdEf';
const JSON_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/anthropic-GhIjKl';
let fake: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let store: ProviderStore;

beforeAll(async () => {
  const env = await setupLocalEnv();
  fake = await startFakeSecretsManager({
    [PLAIN_ARN]: 'sk-from-secrets-manager-1',
    [JSON_ARN]: '{"apiKey":"sk-from-json-secret-2"}',
  });
  const client = {
    endpoint: fake.endpoint,
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }),
  };
  store = new ProviderStore(leanDocumentDb(), env.state.tables.providers, new LocalKeyring(randomBytes(32)), {
    secrets: secretSourceFor('kms:alias/tollgate', { secretsManager: client }),
    actor: { id: 'local:test-suite' },
  });
});

afterAll(async () => {
  await fake?.close();
});

describe('Secrets Manager credentials', () => {
  it('are read at run time, in priority order beside envelope credentials, raw or as JSON', async () => {
    // Prepare
    await store.add(
      { name: 'sm', type: 'openai', baseUrl: 'https://api.openai.com/v1' },
      { secretArn: PLAIN_ARN },
    );
    await store.addCredential('sm', { secretArn: JSON_ARN });
    await store.addCredential('sm', { secret: 'sk-envelope-3' });

    // Act
    const resolved = await store.resolve('sm');

    // Assess
    expect(resolved?.credentials.map((c) => c.secret)).toEqual([
      'sk-from-secrets-manager-1',
      'sk-from-json-secret-2',
      'sk-envelope-3',
    ]);
    expect(fake.calls).toEqual([PLAIN_ARN, JSON_ARN]);
    expect(JSON.stringify(await store.listCredentials('sm'))).not.toContain('sk-from');
  });

  it('are cached for a bounded time, so a warm instance does not call Secrets Manager per request', async () => {
    fake.calls.length = 0;
    const cached = cachedProviders(store, { ttlSeconds: 60, checkEveryMs: 60_000 });
    await cached.resolve('sm');
    await cached.resolve('sm');
    expect(fake.calls).toHaveLength(2);
  });

  it('refuses duplicates and malformed ARNs', async () => {
    await expect(store.addCredential('sm', { secretArn: PLAIN_ARN })).rejects.toThrow(/already exists/);
    await expect(store.addCredential('sm', { secret: 'sk-envelope-3' })).rejects.toThrow(/already exists/);
    await expect(store.addCredential('sm', { secretArn: 'arn:aws:s3:::bucket' })).rejects.toThrow(
      /not a Secrets Manager secret ARN/,
    );
  });

  it('fail with a clear message for a missing secret', async () => {
    await store.add(
      { name: 'sm-missing', type: 'openai', baseUrl: 'https://api.openai.com/v1' },
      {
        secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:gone-XyZ123',
      },
    );
    await expect(store.resolve('sm-missing')).rejects.toThrow(/can't find the specified secret/);
  });

  it('are refused by the local keyring with a clear message', async () => {
    await expect(secretSourceFor('local:/tmp/key').getSecretValue(PLAIN_ARN)).rejects.toThrow(
      /only on a deployed stack/,
    );
  });

  it('accept a JSON secret with api_key or key fields too', () => {
    expect(credentialFromSecretString('{"api_key":"a"}')).toBe('a');
    expect(credentialFromSecretString('{"key":"b"}')).toBe('b');
    expect(credentialFromSecretString('  plain  ')).toBe('plain');
  });
});
