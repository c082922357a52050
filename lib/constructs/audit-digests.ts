/**
 * The audit digest store and the sealing schedule. Digests go to an S3 bucket with Object Lock in
 * compliance mode (versioned, encrypted, no public access, TLS only, retained): once written, no principal —
 * not the audit function, not an administrator — can change or delete one before its retention ends, and
 * only the audit function may put one. An EventBridge rule invokes the audit function every
 * `auditDigestMinutes`, so a signed digest exists for every interval even when nothing changed.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';

/** Props of {@link TollgateAuditDigests}. */
export interface TollgateAuditDigestsProps {
  /** The audit function: the only writer of digests, invoked on the schedule. */
  readonly audit: LambdaFn;
  /** Functions that verify the log (read the digests). */
  readonly readers: readonly LambdaFn[];
  /** A digest at least this often. */
  readonly minutes: number;
  /** How long no one can delete or change a digest (compliance mode). */
  readonly retention?: Duration;
}

const roleOf = (fn: LambdaFn): IRole => {
  if (fn.role === undefined) throw new Error(`function ${fn.node.path} has no role`);
  return fn.role;
};

export class TollgateAuditDigests extends Construct {
  readonly bucket: Bucket;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: TollgateAuditDigestsProps) {
    super(scope, id);
    const writer = roleOf(props.audit);
    this.bucket = new Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(props.retention ?? Duration.days(365)),
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Write-once digests under Object Lock; only the audit function may put them, and S3 data events in CloudTrail record access if wanted.',
    });
    const objects = this.bucket.arnForObjects('digests/*');
    // Bucket policy backstop: whatever IAM grants, only the audit function writes digests, nobody deletes.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheAuditFunctionWritesDigests',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writer.roleArn } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyDeletesDigests',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    // The audit function reads a digest back only when one with its number already exists.
    writer.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [objects] }),
    );
    props.audit.addEnvironment(ENV.auditDigestStore, `s3:${this.bucket.bucketName}`);
    props.audit.addEnvironment(ENV.auditDigestMinutes, String(props.minutes));
    for (const reader of props.readers) {
      roleOf(reader).addToPrincipalPolicy(
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
      );
      roleOf(reader).addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': 'digests/*' } },
        }),
      );
      reader.addEnvironment(ENV.auditDigestStore, `s3:${this.bucket.bucketName}`);
    }
    for (const fn of [props.audit, ...props.readers]) {
      Validations.of(roleOf(fn)).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as never)}.Arn>/digests/*]`,
        reason: 'One object per digest under the digests/ prefix of the digest bucket.',
      });
    }

    this.schedule = new Rule(this, 'Schedule', {
      description: 'Tollgate: seal the audit log with a signed digest, also when nothing changed',
      schedule: Schedule.rate(Duration.minutes(props.minutes)),
      targets: [
        new LambdaFunction(props.audit, { retryAttempts: 2, maxEventAge: Duration.minutes(props.minutes) }),
      ],
    });

    new CfnOutput(Stack.of(this), 'AuditDigestBucketName', {
      value: this.bucket.bucketName,
      description:
        'the Object Lock bucket of signed audit digests that `tollgate audit verify` checks the log against',
    });
  }
}
