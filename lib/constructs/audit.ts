/**
 * The audit pipeline: the configuration tables' streams feed the audit function through event source
 * mappings with partial batch responses, bisection, bounded retries and record age, and an S3 on-failure
 * destination — for stream sources Lambda writes the whole invocation record there, the records themselves
 * and not only their coordinates (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).
 * The function appends to the hash-chained audit table (which nothing else may write), signs digests with
 * an asymmetric KMS key only it may use, and sends records that can never be audited to a poison queue.
 * Alarms fire when anything reaches the bucket or the queue.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import {
  type DlqDestinationConfig,
  type IEventSourceDlq,
  type IEventSourceMapping,
  type IFunction,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import type { TableName } from '#shared/store/schema.ts';
import { tollgateFunction } from './functions.ts';
import { bindTables } from './table-access.ts';

/** The event source mapping's settings, exported for the infrastructure tests. */
export const AUDIT_STREAM_SETTINGS = {
  batchSize: 100,
  bisectBatchOnError: true,
  retryAttempts: 5,
  maxRecordAge: Duration.hours(6),
  reportBatchItemFailures: true,
  startingPosition: StartingPosition.TRIM_HORIZON,
} as const;

/** The bucket's request-metrics filter the failed-batch alarm reads (S3 request metrics need one). */
export const FAILED_BATCHES_METRICS_FILTER = 'EntireBucket';

/**
 * An S3 on-failure destination granting what Lambda documents it needs (s3:PutObject, s3:ListBucket) and
 * nothing more: CDK's own S3 destination grants read too, and the audit function has no business reading
 * failed batches back.
 */
class S3FailedBatches implements IEventSourceDlq {
  private readonly bucket: IBucket;

  constructor(bucket: IBucket) {
    this.bucket = bucket;
  }

  bind(_target: IEventSourceMapping, targetHandler: IFunction): DlqDestinationConfig {
    targetHandler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    targetHandler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    return { destination: this.bucket.bucketArn };
  }
}

/** The tables whose every change is audited. */
export const AUDITED_TABLES = ['keys', 'teams', 'providers'] as const satisfies readonly TableName[];

/** Props of {@link TollgateAudit}. */
export interface TollgateAuditProps {
  readonly tables: Readonly<Record<TableName, Table>>;
  readonly key: IKey;
  readonly logRetention: RetentionDays;
  readonly digestEvery: number;
}

export class TollgateAudit extends Construct {
  readonly fn: NodejsFunction;
  readonly signingKey: Key;
  readonly failures: Queue;
  /** Whole invocation records of stream batches that exhausted their retries. */
  readonly failedBatches: Bucket;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: TollgateAuditProps) {
    super(scope, id);
    this.signingKey = new Key(this, 'SigningKey', {
      description: 'Tollgate: signs audit-log digests (ECDSA P-256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'Asymmetric KMS keys cannot rotate automatically; verifiers pin this public key.',
    });
    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself where the audit pipeline puts records it can never audit.',
    });
    // SSE-S3 rather than the stack key: the audit role may then write here without any KMS right.
    this.failedBatches = new Bucket(this, 'FailedBatches', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      metrics: [{ id: FAILED_BATCHES_METRICS_FILTER }],
    });
    Validations.of(this.failedBatches).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Only Lambda writes here, alarmed on every put; CloudTrail records who reads it.',
    });

    const { fn, role } = tollgateFunction(this, 'Function', {
      name: 'audit',
      memorySize: 256,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
      environment: {
        [ENV.keysTable]: props.tables.keys.tableName,
        [ENV.teamsTable]: props.tables.teams.tableName,
        [ENV.providersTable]: props.tables.providers.tableName,
        [ENV.auditSigner]: `kms:${this.signingKey.keyArn}`,
        [ENV.auditFailureSink]: `sqs:${this.failures.queueUrl}`,
        [ENV.auditDigestEvery]: String(props.digestEvery),
      },
    });
    this.fn = fn;
    bindTables({ user: 'audit', fn, role, tables: props.tables, key: props.key });
    role.addToPolicy(
      new PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [this.signingKey.keyArn] }),
    );
    this.failures.grantSendMessages(role);
    // Stream reads need the table key; CDK grants its Decrypt unconditionally. Whatever any statement says,
    // this function decrypts only what DynamoDB (its tables and streams) decrypts for it.
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['kms:Decrypt'],
        resources: [props.key.keyArn],
        conditions: {
          StringNotEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
    // Key policy backstop: no principal but the audit function can sign digests.
    this.signingKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheAuditFunctionSigns',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );

    for (const name of AUDITED_TABLES) {
      fn.addEventSource(
        new DynamoEventSource(props.tables[name], {
          ...AUDIT_STREAM_SETTINGS,
          onFailure: new S3FailedBatches(this.failedBatches),
        }),
      );
    }
    const bucketId = Stack.of(this).getLogicalId(this.failedBatches.node.defaultChild as CfnBucket);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason: 'Lambda names each failed-batch object itself; the role may only put objects in this bucket.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the stream event source mappings need, has no resource-level scope.',
    });

    const alarm = (id: string, description: string, metric: Metric): Alarm =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      alarm(
        'FailuresAlarm',
        'Audit stream records could not be recorded; they wait in the failure queue with their full content.',
        this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      ),
      alarm(
        'FailedBatchesAlarm',
        'A stream batch exhausted its retries; its whole invocation record is in the failed-batches bucket.',
        new Metric({
          namespace: 'AWS/S3',
          metricName: 'PutRequests',
          statistic: 'Sum',
          period: Duration.minutes(1),
          dimensionsMap: {
            BucketName: this.failedBatches.bucketName,
            FilterId: FAILED_BATCHES_METRICS_FILTER,
          },
        }),
      ),
    ];
  }
}
