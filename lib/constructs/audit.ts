/**
 * The audit pipeline: the configuration tables' streams feed the audit function through event source
 * mappings with partial batch responses, bisection, bounded retries and record age, and an on-failure
 * queue; the function appends to the hash-chained audit table (which nothing else may write) and signs
 * digests with an asymmetric KMS key only it may use. An alarm fires when anything reaches the queue.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import type { TableName } from '#shared/store/schema.ts';
import { bindTable, tollgateFunction } from './functions.ts';

/** The event source mapping's settings, exported for the infrastructure tests. */
export const AUDIT_STREAM_SETTINGS = {
  batchSize: 100,
  bisectBatchOnError: true,
  retryAttempts: 5,
  maxRecordAge: Duration.hours(6),
  reportBatchItemFailures: true,
  startingPosition: StartingPosition.TRIM_HORIZON,
} as const;

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
  readonly alarm: Alarm;

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
      reason: 'This queue is itself the on-failure destination of the audit pipeline.',
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
    bindTable({
      fn,
      role,
      name: 'audit',
      table: props.tables.audit,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      key: props.key,
    });
    role.addToPolicy(
      new PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [this.signingKey.keyArn] }),
    );
    this.failures.grantSendMessages(role);
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
          onFailure: new SqsDlq(this.failures),
        }),
      );
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the stream event source mappings need, has no resource-level scope.',
    });

    this.alarm = new Alarm(this, 'FailuresAlarm', {
      alarmDescription:
        'Audit stream records could not be recorded; they wait in the failure queue with their full content.',
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
