/**
 * The lean JSON 1.1 caller against the fakes of KMS and Secrets Manager, side by side with the services'
 * real SDK clients: the same calls must give the same answers and the same errors, blobs sealed by one
 * must open with the other, and failures are retried as the SDK's standard mode retries them.
 */
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsKeyring } from '#shared/crypto/keyrings.ts';
import { AWS_JSON_SERVICES, AwsServiceError, awsJsonClient } from '#shared/sdk-lean/aws-json.ts';
import { startFakeKms } from '../../fakes/kms.ts';
import { startFakeSecretsManager } from '../../fakes/secrets-manager.ts';
import { failure } from '../../helpers/failure.ts';
import { listen, readAll } from '../../helpers/http.ts';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/openai-AbCdEf';
const CONTEXT = { provider: 'openai', credentialId: 'cred-1' };
let kms: Awaited<ReturnType<typeof startFakeKms>>;
let sm: Awaited<ReturnType<typeof startFakeSecretsManager>>;

beforeAll(async () => {
  kms = await startFakeKms();
  sm = await startFakeSecretsManager({ [SECRET_ARN]: 'sk-from-secrets-manager-1' });
});
afterAll(async () => {
  await kms?.close();
  await sm?.close();
});

const sdkKms = () => new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
const leanKms = () =>
  new KmsKeyring(kms.keyArn, { endpoint: kms.endpoint, credentials: async () => CREDENTIALS });
const secretsManager = (endpoint: string) =>
  awsJsonClient(AWS_JSON_SERVICES.secretsManager, { endpoint, credentials: async () => CREDENTIALS });

describe('the lean caller beside the SDK clients', () => {
  it('opens KMS data keys the SDK sealed, and seals keys the SDK opens', async () => {
    // Prepare
    const bySdk = await sdkKms().send(
      new GenerateDataKeyCommand({ KeyId: kms.keyArn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    );
    const byLean = await leanKms().generateDataKey(CONTEXT);

    // Act
    const openedByLean = await leanKms().unwrapDataKey(Buffer.from(bySdk.CiphertextBlob ?? []), CONTEXT);
    const openedBySdk = await sdkKms().send(
      new DecryptCommand({ KeyId: kms.keyArn, CiphertextBlob: byLean.wrapped, EncryptionContext: CONTEXT }),
    );

    // Assess
    expect(openedByLean).toEqual(Buffer.from(bySdk.Plaintext ?? []));
    expect(Buffer.from(openedBySdk.Plaintext ?? [])).toEqual(byLean.plaintext);
    expect(kms.calls.map((c) => c.context)).toEqual([CONTEXT, CONTEXT, CONTEXT, CONTEXT]);
  });

  it('reads the same secret and fails with the same error type as the SDK client', async () => {
    // Prepare
    const sdk = new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: 'eu-west-1',
      credentials: CREDENTIALS,
    });
    const lean = secretsManager(sm.endpoint);
    const call = (SecretId: string) => ({
      region: 'eu-west-1',
      operation: 'GetSecretValue',
      input: { SecretId },
    });
    const gone = `${SECRET_ARN}-gone`;

    // Act
    const [bySdk, byLean] = [
      await sdk.send(new GetSecretValueCommand({ SecretId: SECRET_ARN })),
      await lean(call(SECRET_ARN)),
    ];
    const [sdkError, leanError] = [
      await failure(sdk.send(new GetSecretValueCommand({ SecretId: gone }))),
      await failure(lean(call(gone))),
    ];

    // Assess
    expect(byLean.SecretString).toBe(bySdk.SecretString);
    expect(leanError.name).toBe(sdkError.name);
    expect(leanError.name).toBe('ResourceNotFoundException');
    expect(leanError).toMatchObject({ status: 400, retryable: false });
  });

  it('are refused by the fake alike when the signature is made with the wrong secret', async () => {
    const wrong = { ...CREDENTIALS, secretAccessKey: 'not-the-secret' };
    const lean = awsJsonClient(AWS_JSON_SERVICES.kms, {
      endpoint: kms.endpoint,
      credentials: async () => wrong,
    });
    const sdk = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: wrong });
    const input = { KeyId: kms.keyArn, KeySpec: 'AES_256' as const };
    const leanError = await failure(lean({ region: 'us-east-1', operation: 'GenerateDataKey', input }));
    const sdkError = await failure(sdk.send(new GenerateDataKeyCommand(input)));
    expect([leanError.name, sdkError.name]).toEqual([
      'InvalidSignatureException',
      'InvalidSignatureException',
    ]);
  });
});

describe('retries', () => {
  /** A server answering the scripted statuses and error types in turn, then success. */
  async function scripted(script: Array<[number, string]>) {
    const targets: string[] = [];
    const server = await listen(async (req, res) => {
      await readAll(req);
      targets.push(String(req.headers['x-amz-target']));
      const next = script.shift();
      const status = next?.[0] ?? 200;
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(next === undefined ? { SecretString: 'ok' } : { __type: next[1], message: 'm' }),
      );
    });
    return { targets, server };
  }
  const call = { region: 'eu-west-1', operation: 'GetSecretValue', input: { SecretId: SECRET_ARN } };

  it('try a 5xx and throttling again, up to three attempts', async () => {
    const flaky = await scripted([
      [503, 'ServiceUnavailable'],
      [400, 'com.amazonaws.secretsmanager#ThrottlingException'],
    ]);
    const failing = await scripted([
      [500, 'InternalServiceError'],
      [500, 'InternalServiceError'],
      [500, 'InternalServiceError'],
      [500, 'InternalServiceError'],
    ]);
    try {
      expect(await secretsManager(`http://127.0.0.1:${flaky.server.port}`)(call)).toEqual({
        SecretString: 'ok',
      });
      expect(flaky.targets).toEqual(Array(3).fill('secretsmanager.GetSecretValue'));
      const err = await failure(secretsManager(`http://127.0.0.1:${failing.server.port}`)(call));
      expect(err).toMatchObject({ name: 'InternalServiceError', status: 500 });
      expect(failing.targets).toHaveLength(3);
    } finally {
      await flaky.server.close();
      await failing.server.close();
    }
  });

  it('do not repeat a refusal, and name a service that does not answer', async () => {
    const refusing = await scripted([[400, 'AccessDeniedException']]);
    try {
      const denied = await failure(secretsManager(`http://127.0.0.1:${refusing.server.port}`)(call));
      expect(denied).toMatchObject({ name: 'AccessDeniedException', message: 'AccessDeniedException: m' });
      expect(refusing.targets).toHaveLength(1);
    } finally {
      await refusing.server.close();
    }
    const silent = await failure(secretsManager(`http://127.0.0.1:${refusing.server.port}`)(call));
    expect(silent).toBeInstanceOf(AwsServiceError);
    expect(silent).toMatchObject({ name: 'NetworkingError', status: 0 });
  });
});

describe('endpoints', () => {
  /** The URL and headers of the one request a call makes. */
  async function requestOf(region: string, options: { env?: string; sessionToken?: string } = {}) {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    if (options.env === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = options.env;
    try {
      const caller = awsJsonClient(AWS_JSON_SERVICES.secretsManager, {
        credentials: async () => ({
          ...CREDENTIALS,
          ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
        }),
        transport: async ({ url, headers }) => {
          seen.push({ url: String(url), headers });
          return { status: 200, headers: {}, body: '{}' };
        },
      });
      await caller({ region, operation: 'GetSecretValue', input: {} });
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
    }
    return seen[0];
  }

  it("follow the SDK's partition table and its endpoint variable", async () => {
    expect((await requestOf('eu-west-1'))?.url).toBe('https://secretsmanager.eu-west-1.amazonaws.com/');
    expect((await requestOf('cn-north-1'))?.url).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn/');
    expect((await requestOf('us-isob-east-1'))?.url).toBe(
      'https://secretsmanager.us-isob-east-1.sc2s.sgov.gov/',
    );
    expect((await requestOf('eu-west-1', { env: 'http://127.0.0.1:4566' }))?.url).toBe(
      'http://127.0.0.1:4566/',
    );
  });

  it("sign the role's session token into the request", async () => {
    const headers: Record<string, string> =
      (await requestOf('eu-west-1', { sessionToken: 'session-token-1' }))?.headers ?? {};
    expect(headers['x-amz-security-token']).toBe('session-token-1');
    expect(headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    expect(headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
  });
});
