/**
 * The management API: `/admin` and `/admin/{proxy+}`, authorized by AWS IAM (SigV4) — there is no master
 * key anywhere — and served by its own function, the only one besides the CLI's operators that may change
 * configuration. The proxy keeps no write access to it.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import type { TableName } from '#shared/store/schema.ts';
import { AWS_LIMITS } from '../aws-limits.ts';
import { CREDENTIAL_CONTEXT_CONDITIONS, tollgateFunction } from './functions.ts';
import { bindTables } from './table-access.ts';

/** Props of {@link TollgateAdmin}. */
export interface TollgateAdminProps {
  readonly api: RestApi;
  readonly tables: Readonly<Record<TableName, Table>>;
  readonly key: IKey;
  readonly signingKey: IKey;
  readonly logRetention: RetentionDays;
  readonly keyPrefix: string;
  /** Below the integration's timeout, so the function never outlives the answer API Gateway gave up on. */
  readonly timeoutSeconds: number;
  /** The authorizer cache's TTL: how long a split change must wait out cached limits (`Meter.monthBegun`). */
  readonly authorizerCacheTtlSeconds: number;
}

export class TollgateAdmin extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: TollgateAdminProps) {
    super(scope, id);
    const { fn, role } = tollgateFunction(this, 'Function', {
      name: 'admin',
      memorySize: 256,
      timeout: Duration.seconds(props.timeoutSeconds),
      logRetention: props.logRetention,
      environment: {
        [ENV.keyPrefix]: props.keyPrefix,
        [ENV.keyring]: `kms:${props.key.keyArn}`,
        [ENV.auditSigner]: `kms:${props.signingKey.keyArn}`,
        [ENV.callerCacheSeconds]: String(props.authorizerCacheTtlSeconds),
      },
    });
    this.fn = fn;
    bindTables({ user: 'admin', fn, role, tables: props.tables, key: props.key });
    // Sealing a credential needs a fresh data key under its context; opening one stays the proxy's alone.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [props.key.keyArn],
        conditions: CREDENTIAL_CONTEXT_CONDITIONS,
      }),
    );
    role.addToPolicy(
      new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [props.signingKey.keyArn] }),
    );

    new Rule(this, 'Reconcile', {
      description: 'Tollgate: bill expired reservations no admission touches any more, at their estimate',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });

    const integration = new LambdaIntegration(fn, {
      proxy: true,
      timeout: Duration.millis(AWS_LIMITS.bufferedIntegrationTimeoutMs),
    });
    const admin = props.api.root.addResource('admin');
    for (const resource of [admin, admin.addResource('{proxy+}')]) {
      const method = resource.addMethod('ANY', integration, { authorizationType: AuthorizationType.IAM });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'The management API is authorized by AWS IAM (SigV4): operators use their own AWS credentials.',
      });
    }
  }
}
