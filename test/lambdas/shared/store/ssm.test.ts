/**
 * SSM Parameter Store SecureString references as a credential source: the proxy's SigV4-signed reader
 * against a fake of the service's wire protocol that checks the signature, the store on DynamoDB Local; and local references (a key
 * file, a variable of the gateway's environment) read at run time, each refused where it cannot be read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#shared/crypto/keyrings.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { ProviderStore } from '#shared/store/providers.ts';
import { secretSourceFor } from '#shared/store/secrets-manager.ts';
import { FAKE_CREDENTIALS, startFakeSsm } from '../../../fakes/ssm.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

const PARAM = 'arn:aws:ssm:eu-west-1:111122223333:parameter/tollgate/openai';
const JSON_PARAM = 'arn:aws:ssm:eu-west-1:111122223333:parameter/tollgate/anthropic';
let fake: Awaited<ReturnType<typeof startFakeSsm>>;
let aws: ProviderStore;
let local: ProviderStore;
let table: string;

beforeAll(async () => {
  const env = await setupLocalEnv();
  table = env.state.tables.providers;
  fake = await startFakeSsm({
    [PARAM]: 'sk-from-parameter-1',
    [JSON_PARAM]: '{"apiKey":"sk-from-json-param-2"}',
  });
  const parameterStore = { endpoint: fake.endpoint, credentials: async () => FAKE_CREDENTIALS };
  const keyring = new LocalKeyring(randomBytes(32));
  aws = new ProviderStore(leanDocumentDb(), table, keyring, {
    secrets: secretSourceFor('kms:alias/tollgate', { parameterStore }),
    actor: { id: 'local:test-suite' },
  });
  local = new ProviderStore(leanDocumentDb(), table, keyring, {
    secrets: secretSourceFor('local:/tmp/key'),
    actor: { id: 'local:test-suite' },
  });
});

afterAll(async () => {
  await fake?.close();
});

describe('Parameter Store credentials', () => {
  it('are read at run time with decryption, raw or as JSON, and never stored or listed', async () => {
    // Prepare
    await aws.add(
      { name: 'ps', type: 'openai', baseUrl: 'https://api.openai.com/v1' },
      { parameterArn: PARAM },
    );
    await aws.addCredential('ps', { parameterArn: JSON_PARAM, label: 'json' });

    // Act
    const resolved = await aws.resolve('ps');
    const listed = await aws.listCredentials('ps');

    // Assess
    expect(resolved?.credentials.map((c) => c.secret)).toEqual([
      'sk-from-parameter-1',
      'sk-from-json-param-2',
    ]);
    expect(fake.calls).toEqual([
      { name: PARAM, withDecryption: true },
      { name: JSON_PARAM, withDecryption: true },
    ]);
    expect(listed.map((c) => [c.source, c.reference])).toEqual([
      ['ssm', PARAM],
      ['ssm', JSON_PARAM],
    ]);
    expect(JSON.stringify(listed)).not.toContain('sk-from');
  });

  it('refuse duplicates, malformed ARNs and a missing parameter', async () => {
    await expect(aws.addCredential('ps', { parameterArn: PARAM })).rejects.toThrow(/already exists/);
    await expect(
      aws.addCredential('ps', { parameterArn: 'arn:aws:ssm:eu-west-1:111122223333:parameter/*' }),
    ).rejects.toThrow(/not an SSM parameter ARN/);
    await aws.add(
      { name: 'ps-missing', type: 'openai', baseUrl: 'https://api.openai.com/v1' },
      { parameterArn: 'arn:aws:ssm:eu-west-1:111122223333:parameter/gone' },
    );
    await expect(aws.resolve('ps-missing')).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('are signed: wrong credentials are refused by the service, and the store says so', async () => {
    // Prepare
    const wrong = new ProviderStore(leanDocumentDb(), table, new LocalKeyring(randomBytes(32)), {
      secrets: secretSourceFor('kms:alias/tollgate', {
        parameterStore: {
          endpoint: fake.endpoint,
          credentials: async () => ({ ...FAKE_CREDENTIALS, secretAccessKey: 'not-the-key' }),
        },
      }),
      actor: { id: 'local:test-suite' },
    });

    // Act
    const refused = wrong.resolve('ps');

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('are refused by the local source with a clear message', async () => {
    await expect(local.resolve('ps')).rejects.toThrow(/only on a deployed stack/);
  });
});

describe('local references', () => {
  it('read a key file and a variable at run time, so a changed value is used without re-adding', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-keyfile-')), 'openai.key');
    writeFileSync(file, 'sk-from-file-1\n', { mode: 0o600 });
    process.env.TOLLGATE_TEST_LIVE_KEY = 'sk-from-env-2';
    await local.add(
      { name: 'refs', type: 'openai', baseUrl: 'https://api.openai.com/v1' },
      { keyFile: file },
    );
    await local.addCredential('refs', { keyEnv: 'TOLLGATE_TEST_LIVE_KEY' });

    // Act
    const before = await local.resolve('refs');
    writeFileSync(file, 'sk-from-file-rotated\n');
    process.env.TOLLGATE_TEST_LIVE_KEY = 'sk-from-env-rotated';
    const after = await local.resolve('refs');

    // Assess
    expect(before?.credentials.map((c) => c.secret)).toEqual(['sk-from-file-1', 'sk-from-env-2']);
    expect(after?.credentials.map((c) => c.secret)).toEqual(['sk-from-file-rotated', 'sk-from-env-rotated']);
    expect(JSON.stringify(await local.listCredentials('refs'))).not.toContain('sk-from');
  });

  it('refuse relative paths, bad variable names, an unset variable and a deployed source', async () => {
    await expect(local.addCredential('refs', { keyFile: 'relative.key' })).rejects.toThrow(/absolute path/);
    await expect(local.addCredential('refs', { keyEnv: 'NOT-A-NAME' })).rejects.toThrow(
      /not an environment variable/,
    );
    delete process.env.TOLLGATE_TEST_LIVE_KEY;
    await expect(local.resolve('refs')).rejects.toThrow(/TOLLGATE_TEST_LIVE_KEY is unset/);
    await expect(aws.resolve('refs')).rejects.toThrow(/read only by a local gateway/);
  });
});
