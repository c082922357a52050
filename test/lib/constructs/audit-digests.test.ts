/**
 * The audit digest store and schedule on the synthesized template: a compliance-mode Object Lock bucket
 * that only the audit function may write and nobody may delete from, and a rule sealing on the interval.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config.ts';
import { TollgateStack } from '../../../lib/stack.ts';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

let template: Template;
let resources: Record<string, Resource>;

const idOf = (type: string, part: string): string => {
  const id = Object.keys(template.findResources(type)).find((k) => k.includes(part));
  if (id === undefined) throw new Error(`no ${type} with ${part} in its id`);
  return id;
};
/** The policy of the digest bucket (the stack has other buckets). */
const digestBucketPolicy = (): Resource => {
  const bucket = idOf('AWS::S3::Bucket', 'AuditDigests');
  const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find(
    (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucket }),
  );
  if (policy === undefined) throw new Error('the digest bucket has no policy');
  return policy as Resource;
};
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

beforeAll(() => {
  const app = new App();
  const stack = new TollgateStack(app, 'Tollgate', {
    config: { ...DEFAULT_CONFIG, auditDigestMinutes: 10 },
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

describe('the audit digest bucket', () => {
  it('locks every digest in compliance mode, versioned, encrypted, private, TLS-only and retained', () => {
    const bucket = resources[idOf('AWS::S3::Bucket', 'AuditDigests')] as Resource;
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    const policy = digestBucketPolicy();
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(
      statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
    ).toBe(true);
  });

  it('denies writes to every principal but the audit function, and deletes to all', () => {
    const policy = digestBucketPolicy();
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const onlyAudit = statements.find((s) => s.Sid === 'OnlyTheAuditFunctionWritesDigests');
    expect(onlyAudit).toMatchObject({ Effect: 'Deny', Action: 's3:PutObject' });
    expect(JSON.stringify(onlyAudit?.Condition?.ArnNotEquals)).toContain(
      idOf('AWS::IAM::Role', 'AuditFunctionRole'),
    );
    const noDelete = statements.find((s) => s.Sid === 'NobodyDeletesDigests');
    expect(noDelete?.Effect).toBe('Deny');
    expect(noDelete?.Condition).toBeUndefined();
    expect(actionsOf(noDelete as Statement)).toEqual(
      expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention']),
    );
  });

  it('grants s3:PutObject to the audit role alone; the admin function only reads', () => {
    const bucket = idOf('AWS::S3::Bucket', 'AuditDigests');
    const grants = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(bucket))
        .map((s) => ({ roles: JSON.stringify(p.Properties.Roles), actions: actionsOf(s) })),
    );
    const writers = grants.filter((g) => g.actions.some((a) => /Put|Delete|\*/.test(a)));
    expect(writers).toHaveLength(1);
    expect(writers[0]?.roles).toContain(idOf('AWS::IAM::Role', 'AuditFunctionRole'));
    expect(writers[0]?.actions.sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    const readers = grants.filter((g) => g.roles.includes(idOf('AWS::IAM::Role', 'AdminFunctionRole')));
    expect(readers.flatMap((g) => g.actions).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('tells the audit and admin functions where the digests are, and the stack outputs the bucket for the CLI', () => {
    const bucket = idOf('AWS::S3::Bucket', 'AuditDigests');
    for (const part of ['AuditFunction', 'AdminFunction']) {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(
        ([id]) => id.includes(part) && !id.includes('Role'),
      )?.[1] as Resource;
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(JSON.stringify(variables.TOLLGATE_AUDIT_DIGEST_STORE)).toContain(bucket);
    }
    template.hasOutput('AuditDigestBucketName', { Value: { Ref: bucket } });
  });
});

describe('the sealing schedule', () => {
  it('invokes the audit function every auditDigestMinutes, which it also reads', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes(idOf('AWS::Lambda::Function', 'AuditFunction')),
    ) as Resource;
    expect(rule.Properties.ScheduleExpression).toBe('rate(10 minutes)');
    expect(rule.Properties.State).toBe('ENABLED');
    const targets = rule.Properties.Targets as Array<{ Arn: unknown; RetryPolicy: unknown }>;
    expect(targets).toHaveLength(1);
    expect(JSON.stringify(targets[0]?.Arn)).toContain(idOf('AWS::Lambda::Function', 'AuditFunction'));
    expect(targets[0]?.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
    const fn = resources[idOf('AWS::Lambda::Function', 'AuditFunction')] as Resource;
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.TOLLGATE_AUDIT_DIGEST_MINUTES).toBe('10');
  });
});
