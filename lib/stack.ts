/** The Tollgate stack: key, tables, functions and API, wired together; outputs for the CLI and operators. */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { TollgateConfig } from './config.ts';
import { TollgateAdmin } from './constructs/admin.ts';
import { TollgateApi } from './constructs/api.ts';
import { TollgateAudit } from './constructs/audit.ts';
import { TollgateAuditDigests } from './constructs/audit-digests.ts';
import { TollgateFunctions } from './constructs/functions.ts';
import { TollgateObservability } from './constructs/observability.ts';
import { TollgateTables } from './constructs/tables.ts';

/** Props of {@link TollgateStack}. */
export interface TollgateStackProps extends StackProps {
  readonly config: TollgateConfig;
}

export class TollgateStack extends Stack {
  constructor(scope: Construct, id: string, props: TollgateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;

    const key = new Key(this, 'Key', {
      alias: `alias/${this.stackName}`,
      description: 'Tollgate: table encryption and upstream-credential envelope encryption',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const { tables } = new TollgateTables(this, 'Tables', { key });
    const functions = new TollgateFunctions(this, 'Functions', {
      key,
      tables,
      logRetention,
      keyPrefix: config.keyPrefix,
      maxBodyBytes: config.maxBodyBytes,
      credentialCacheSeconds: config.credentialCacheSeconds,
      // Routes without an authorizer keep a checked key as long as the authorizer cache would.
      callerCacheSeconds: config.authorizerCacheTtlSeconds,
      secretArns: config.secretArns,
      parameterArns: config.parameterArns,
      publicAnalytics: config.publicAnalytics,
      requestLogRetentionDays: config.requestLogRetentionDays,
      corsOrigins: config.corsOrigins,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      heartbeatMs: config.heartbeatMs,
    });
    // Key policy backstop: whatever IAM says, no principal but the proxy can decrypt credential data keys.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheProxyDecryptsCredentials',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          Null: { 'kms:EncryptionContext:credentialId': 'false' },
          ArnNotEquals: { 'aws:PrincipalArn': functions.proxyRole.roleArn },
        },
      }),
    );
    const audit = new TollgateAudit(this, 'Audit', {
      tables,
      key,
      logRetention,
      digestEvery: config.auditDigestEvery,
    });
    const { api } = new TollgateApi(this, 'Api', {
      // Unique per account and region as the stack name is, so two stacks (and their dashboards) coexist.
      apiName: this.stackName,
      authorizer: functions.authorizer,
      proxy: functions.proxy,
      stageName: config.stageName,
      authorizerCacheTtlSeconds: config.authorizerCacheTtlSeconds,
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      logRetention,
      corsOrigins: config.corsOrigins,
      customDomain: config.customDomain,
      wafWebAclArn: config.wafWebAclArn,
    });

    const admin = new TollgateAdmin(this, 'Admin', {
      api,
      tables,
      key,
      signingKey: audit.signingKey,
      logRetention,
      keyPrefix: config.keyPrefix,
      timeoutSeconds: config.adminTimeoutSeconds,
      authorizerCacheTtlSeconds: config.authorizerCacheTtlSeconds,
    });
    const minutes = config.auditDigestMinutes;
    new TollgateAuditDigests(this, 'AuditDigests', { audit: audit.fn, readers: [admin.fn], minutes });
    const observability = new TollgateObservability(this, 'Observability', {
      api,
      stageName: config.stageName,
      authorizer: functions.authorizer,
      proxy: functions.proxy,
      audit: audit.fn,
      auditAlarms: audit.alarms,
      alarmEmail: config.alarmEmail,
    });
    if (api.domainName !== undefined) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: api.domainName.domainNameAliasDomainName,
        description: 'point a CNAME or alias of the custom domain here',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: observability.dashboard.dashboardName });
    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the gateway' });
    new CfnOutput(this, 'AuthorizerCacheTtlSeconds', {
      value: String(config.authorizerCacheTtlSeconds),
      description: 'How long a disabled key may still pass the authorizer (tollgate doctor waits it out)',
    });
    new CfnOutput(this, 'KeysTableName', { value: tables.keys.tableName });
    new CfnOutput(this, 'TeamsTableName', { value: tables.teams.tableName });
    new CfnOutput(this, 'ProvidersTableName', { value: tables.providers.tableName });
    new CfnOutput(this, 'UsageTableName', { value: tables.usage.tableName });
    new CfnOutput(this, 'RequestLogTableName', { value: tables.requestLog.tableName });
    new CfnOutput(this, 'KeyArn', {
      value: key.keyArn,
      description: 'KMS key for tables and credential envelopes',
    });
    new CfnOutput(this, 'AuditTableName', { value: tables.audit.tableName });
    new CfnOutput(this, 'AuditSigningKeyArn', {
      value: audit.signingKey.keyArn,
      description: 'verify the audit log with its public key',
    });
    new CfnOutput(this, 'AuditFailureQueueUrl', { value: audit.failures.queueUrl });
    new CfnOutput(this, 'AuditFailedBatchesBucket', {
      value: audit.failedBatches.bucketName,
      description: 'whole invocation records of audit stream batches that exhausted their retries',
    });
  }
}
