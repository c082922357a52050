/**
 * `tollgate --stack NAME`: the CLI finds a deployed stack's tables and keys in its CloudFormation outputs and
 * acts as the caller's IAM principal. The AWS side is DynamoDB Local plus fakes of CloudFormation, STS and
 * KMS, reached through the SDK's standard per-service endpoint variables.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#shared/store/sdk-db.ts';
import { cliOutputs, startFakeCloudFormation } from '../../fakes/cloudformation.ts';
import { startFakeKms } from '../../fakes/kms.ts';
import { startFakeSts } from '../../fakes/sts.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';
import { runCli } from '../../helpers/run-cli.ts';

const CALLER = 'arn:aws:sts::111122223333:assumed-role/TollgateOperators/bob';
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
const closers: Array<() => Promise<void>> = [];
let kms: Awaited<ReturnType<typeof startFakeKms>>;

const run = runCli;

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  kms = await startFakeKms();
  const sts = await startFakeSts(CALLER);
  const cfn = await startFakeCloudFormation({
    Tollgate: cliOutputs(env.state.tables, {
      keyArn: kms.keyArn,
      signingKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/audit',
      digestBucket: 'tollgate-auditdigestsbucket-1a2b3c',
    }),
  });
  closers.push(kms.close, sts.close, cfn.close);
  process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cfn.endpoint;
  process.env.AWS_ENDPOINT_URL_STS = sts.endpoint;
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
});

afterAll(async () => {
  for (const close of closers) await close();
});

describe('tollgate --stack', () => {
  it('creates keys in the stack’s tables, attributed to the caller’s IAM principal', async () => {
    // Act
    const created = await run(
      '--stack',
      'Tollgate',
      '--region',
      'eu-west-1',
      'keys',
      'create',
      '--name',
      'deployed',
      '--json',
    );

    // Assess
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const item = await documentClient().send(
      new GetCommand({ TableName: env.state.tables.keys, Key: { keyId: id } }),
    );
    expect(item.Item?.lastChange).toMatchObject({ actor: CALLER, action: 'key.create' });
  });

  it('seals provider credentials with the stack’s KMS key under their encryption context', async () => {
    process.env.STACK_UPSTREAM = 'sk-stack-upstream-1';
    kms.calls.length = 0;
    const added = await run(
      '--stack',
      'Tollgate',
      'providers',
      'add',
      'deployed-openai',
      '--type',
      'openai',
      '--base-url',
      'https://api.openai.com/v1',
      '--key-env',
      'STACK_UPSTREAM',
    );
    expect(added.code).toBe(0);
    expect(kms.calls).toEqual([
      {
        target: 'TrentService.GenerateDataKey',
        context: { provider: 'deployed-openai', credentialId: expect.any(String) },
      },
    ]);
    expect(await env.dumpTables()).not.toContain('sk-stack-upstream-1');
  });

  it('says so in one line when the stack does not exist', async () => {
    const missing = await run('--stack', 'Nope', 'keys', 'list');
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe("tollgate: no stack 'Nope'");
  });
});
