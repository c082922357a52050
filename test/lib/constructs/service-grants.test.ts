/**
 * The functions' KMS, Secrets Manager and Parameter Store grants, run rather than read: the synthesized
 * roles' statements are evaluated as IAM evaluates them (test/helpers/iam-policy.ts) by the fakes of the
 * three services, and the gateway's own code makes its calls through them — the admin function sealing a
 * credential, the proxy opening it and reading secrets and parameters in and outside the stack's region
 * (a partial secret ARN, an operator's customer-managed key), the audit function signing. What is not
 * granted must be refused: another context, another secret or parameter, another operation.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSigner } from '#shared/audit/signer.ts';
import { KmsKeyring } from '#shared/crypto/keyrings.ts';
import { AWS_JSON_SERVICES, awsJsonClient } from '#shared/sdk-lean/aws-json.ts';
import { secretSourceFor } from '#shared/store/secrets-manager.ts';
import { DEFAULT_CONFIG } from '../../../lib/config.ts';
import { TollgateStack } from '../../../lib/stack.ts';
import { startFakeKms } from '../../fakes/kms.ts';
import { startFakeSecretsManager } from '../../fakes/secrets-manager.ts';
import { FAKE_CREDENTIALS } from '../../fakes/sigv4.ts';
import { startFakeSsm } from '../../fakes/ssm.ts';
import { allows, type Json, roleStatements, type Statement } from '../../helpers/iam-policy.ts';

const ACCOUNT = '111122223333';
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:tollgate/openai-AbCdEf`;
/** Configured without Secrets Manager's suffix, in another region. */
const PARTIAL_SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:tollgate/anthropic`;
const OTHER_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:payroll/db-XyZ123`;
const PARAMETER = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/tollgate/gemini`;
const AWAY_PARAMETER = `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter/tollgate/mistral`;
const OTHER_PARAMETER = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/payroll/token`;
const OPERATOR_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/operator-owned`;
const CONTEXT = { provider: 'openai', credentialId: 'cred-1' };

type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;
let resources: Resources;
/** The role whose statements the fakes evaluate now. */
let acting: Statement[] = [];
const authorize = (request: Parameters<typeof allows>[1]) => allows(acting, request);
let kms: Awaited<ReturnType<typeof startFakeKms>>;
let sm: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let ssm: Awaited<ReturnType<typeof startFakeSsm>>;
let credentialKeyArn = '';
const fakeSigningKey = `arn:aws:kms:us-east-1:${ACCOUNT}:key/5678efgh-56ef-78gh-90ij-5678901234ef`;

/** The resolved statements of the role whose logical id contains `part`. */
function statementsOf(part: string): Statement[] {
  const roleId = Object.keys(resources).find(
    (id) => id.includes(part) && resources[id]?.Type === 'AWS::IAM::Role',
  );
  if (roleId === undefined) throw new Error(`no role ${part}`);
  return roleStatements({ Resources: resources }, roleId, (id, attribute) => {
    if (resources[id]?.Type === 'AWS::KMS::Key')
      return id.includes('SigningKey') ? fakeSigningKey : credentialKeyArn;
    // Tables, log groups, buckets and queues: an ARN of their own that no call here names.
    return `arn:aws:fake:us-east-1:${ACCOUNT}:${id}${attribute === undefined ? '' : `/${attribute}`}`;
  });
}

/** The error a promise rejects with, by name. */
const refusalOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'allowed',
    (err: Error) => err.name,
  );

beforeAll(async () => {
  const app = new App();
  const stack = new TollgateStack(app, 'Grants', {
    config: {
      ...DEFAULT_CONFIG,
      secretArns: [SECRET, PARTIAL_SECRET],
      parameterArns: [PARAMETER, AWAY_PARAMETER],
    },
    env: { account: ACCOUNT, region: 'us-east-1' },
  });
  resources = Template.fromStack(stack).toJSON().Resources as Resources;
  kms = await startFakeKms({ authorize });
  credentialKeyArn = kms.keyArn;
  sm = await startFakeSecretsManager(
    {
      [SECRET]: 'sk-openai-from-sm',
      [`${PARTIAL_SECRET}-Gh1jKl`]: 'sk-anthropic-from-sm',
      [OTHER_SECRET]: 'not-for-the-gateway',
    },
    { authorize, customerKey: OPERATOR_KEY },
  );
  ssm = await startFakeSsm(
    { [PARAMETER]: 'gemini-key', [AWAY_PARAMETER]: 'mistral-key', [OTHER_PARAMETER]: 'not-for-the-gateway' },
    { authorize, customerKey: OPERATOR_KEY },
  );
}, 120_000);

afterAll(async () => {
  await kms?.close();
  await sm?.close();
  await ssm?.close();
});

/** KMS called directly, for contexts the keyring would never send. */
const rawKms = (operation: 'GenerateDataKey' | 'Decrypt', input: Record<string, unknown>) =>
  awsJsonClient(AWS_JSON_SERVICES.kms, { endpoint: kms.endpoint, credentials: async () => FAKE_CREDENTIALS })(
    {
      region: 'us-east-1',
      operation,
      input: { KeyId: credentialKeyArn, ...input },
    },
  );
const keyring = () =>
  new KmsKeyring(credentialKeyArn, { endpoint: kms.endpoint, credentials: async () => FAKE_CREDENTIALS });

describe('credential data keys under the admin and proxy roles', () => {
  it('are sealed by the admin function and opened by the proxy only under their {provider, credentialId} context', async () => {
    // Act
    acting = statementsOf('AdminFunctionRole');
    const sealed = await keyring().generateDataKey(CONTEXT);
    const seal = (context: Record<string, string>) =>
      refusalOf(rawKms('GenerateDataKey', { KeySpec: 'AES_256', EncryptionContext: context }));
    const sealedWider = await seal({ ...CONTEXT, tenant: 'x' });
    const sealedBare = await seal({});
    acting = statementsOf('FunctionsProxyRole');
    const opened = await keyring().unwrapDataKey(sealed.wrapped, CONTEXT);
    const openedNarrower = await refusalOf(
      rawKms('Decrypt', {
        CiphertextBlob: sealed.wrapped.toString('base64'),
        EncryptionContext: { provider: 'openai' },
      }),
    );
    const sealedByProxy = await refusalOf(keyring().generateDataKey(CONTEXT));

    // Assess
    expect(opened.equals(sealed.plaintext)).toBe(true);
    expect({ sealedWider, sealedBare, openedNarrower, sealedByProxy }).toEqual({
      sealedWider: 'AccessDeniedException',
      sealedBare: 'AccessDeniedException',
      openedNarrower: 'AccessDeniedException',
      sealedByProxy: 'AccessDeniedException',
    });
  });
});

describe("the proxy's secrets and parameters", () => {
  it('reads exactly the configured ones, in their own regions, under an operator key, and nothing else', async () => {
    // Prepare
    acting = statementsOf('FunctionsProxyRole');
    const options = { credentials: async () => FAKE_CREDENTIALS };
    const source = secretSourceFor(`kms:${credentialKeyArn}`, {
      secretsManager: { ...options, endpoint: sm.endpoint },
      parameterStore: { ...options, endpoint: ssm.endpoint },
    });

    // Act
    const read = {
      secret: await source.getSecretValue(SECRET),
      partial: await source.getSecretValue(PARTIAL_SECRET),
      parameter: await source.getParameter(PARAMETER),
      away: await source.getParameter(AWAY_PARAMETER),
    };
    const refused = {
      secret: await refusalOf(source.getSecretValue(OTHER_SECRET)),
      parameter: await refusalOf(source.getParameter(OTHER_PARAMETER)),
    };
    acting = statementsOf('AuditFunctionRole');
    const byAudit = await refusalOf(source.getSecretValue(SECRET));

    // Assess
    expect(read).toEqual({
      secret: 'sk-openai-from-sm',
      partial: 'sk-anthropic-from-sm',
      parameter: 'gemini-key',
      away: 'mistral-key',
    });
    expect({ ...refused, byAudit }).toEqual({
      secret: 'AccessDeniedException',
      parameter: 'AccessDeniedException',
      byAudit: 'AccessDeniedException',
    });
  });
});

describe("the audit function's signing key", () => {
  it('signs digests and gives its public key under the audit role, and opens no credential', async () => {
    // Prepare
    acting = statementsOf('AdminFunctionRole');
    const sealed = await keyring().generateDataKey(CONTEXT);
    acting = statementsOf('AuditFunctionRole');
    const client = new KMSClient({
      endpoint: kms.endpoint,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
    });
    const signer = new KmsSigner(kms.signingKeyArn, client);

    // Act
    const signature = await signer.sign(Buffer.from('digest'));
    const publicKey = await signer.publicKeyPem();
    const opened = await refusalOf(keyring().unwrapDataKey(sealed.wrapped, CONTEXT));
    acting = statementsOf('FunctionsProxyRole');
    const signedByProxy = await refusalOf(signer.sign(Buffer.from('digest')));
    client.destroy();

    // Assess
    expect(signature.length).toBeGreaterThan(60);
    expect(publicKey).toContain('BEGIN PUBLIC KEY');
    expect({ opened, signedByProxy }).toEqual({
      opened: 'AccessDeniedException',
      signedByProxy: 'AccessDeniedException',
    });
  });
});
