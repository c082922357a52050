/**
 * The authorizer and proxy Lambdas: Node.js 24 on arm64, esbuild-bundled (minified ESM, AWS SDK v3
 * bundled and tree-shaken rather than taken from the runtime), each with its own role and log group.
 * Table access goes through `bindTables` (`table-access.ts`), which sets the env-contract variable and
 * grants the IAM actions together so they cannot drift apart.
 */
import { CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import { regionOfArn } from '#shared/sdk-lean/aws-json.ts';
import type { TableName } from '#shared/store/schema.ts';
import { AWS_LIMITS } from '../aws-limits.ts';
import {
  BUNDLE_BANNER,
  BUNDLE_MAIN_FIELDS,
  BUNDLE_TARGET,
  bundleEsbuildArgs,
  LAMBDA_ENTRIES,
  type LambdaName,
} from '../bundling.ts';
import { bindTables } from './table-access.ts';

/**
 * The encryption context every credential data key is bound to, as IAM conditions: both keys present and no
 * other. `ForAllValues` alone would also match an empty context, hence the `Null` checks. The proxy's
 * Decrypt and the admin function's GenerateDataKey use exactly this.
 */
export const CREDENTIAL_CONTEXT_CONDITIONS = {
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['provider', 'credentialId'] },
  Null: { 'kms:EncryptionContext:provider': 'false', 'kms:EncryptionContext:credentialId': 'false' },
};

/**
 * One Tollgate Lambda: Node.js 24 on arm64, the shared bundling, JSON logs to its own log group, and its
 * own role whose only built-in permission is writing that log group (no broad managed policy).
 */
export function tollgateFunction(
  scope: Construct,
  id: string,
  props: {
    name: LambdaName;
    memorySize: number;
    timeout: Duration;
    logRetention: RetentionDays;
    environment: Record<string, string>;
  },
): { fn: NodejsFunction; role: Role } {
  const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
  const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  const fn = new NodejsFunction(scope, id, {
    entry: LAMBDA_ENTRIES[props.name],
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    loggingFormat: LoggingFormat.JSON,
    environment: { POWERTOOLS_SERVICE_NAME: 'tollgate', ...props.environment },
    bundling: {
      format: OutputFormat.ESM,
      target: BUNDLE_TARGET,
      minify: true,
      sourceMap: false,
      mainFields: BUNDLE_MAIN_FIELDS,
      // Bundle the SDK instead of relying on the runtime's copy: pinned versions, tree-shaken.
      externalModules: [],
      banner: BUNDLE_BANNER,
      esbuildArgs: bundleEsbuildArgs(props.name),
    },
  });
  // CDK makes the function depend on its role and policy; the role is already implied by the function's
  // `Role` GetAtt (cfn-lint W3005), so only the policy dependency is kept.
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (policy instanceof CfnResource) {
    (fn.node.defaultChild as CfnResource).addOverride('DependsOn', [Stack.of(scope).getLogicalId(policy)]);
  }
  return { fn, role };
}

/** Props of {@link TollgateFunctions}. */
export interface TollgateFunctionsProps {
  readonly key: IKey;
  readonly tables: Readonly<Record<TableName, Table>>;
  readonly logRetention: RetentionDays;
  readonly keyPrefix: string;
  readonly maxBodyBytes: number;
  readonly credentialCacheSeconds: number;
  /** How long the proxy keeps a key it checked itself (routes without an authorizer). */
  readonly callerCacheSeconds: number;
  readonly requestLogRetentionDays: number;
  readonly corsOrigins: readonly string[];
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Secrets the proxy may read as credentials (`providers credentials add --secret-arn`). */
  readonly secretArns: readonly string[];
  /** SecureString parameters the proxy may read as credentials (`--parameter-arn`). */
  readonly parameterArns: readonly string[];
  /** Serve `GET /v1/analytics`. */
  readonly publicAnalytics: boolean;
}

/** Each secret ARN as configured and with the `-??????` suffix Secrets Manager appends to a name. */
const withSecretSuffix = (arns: readonly string[]): string[] => arns.flatMap((arn) => [arn, `${arn}-??????`]);

/**
 * The `kms:ViaService` values of a service reading on the proxy's behalf: one per region the ARNs are in,
 * since the proxy calls each secret and parameter in its own region and that region's service calls KMS.
 */
const viaService = (service: string, arns: readonly string[]): string[] => [
  ...new Set(arns.map((arn) => `${service}.${regionOfArn(arn)}.amazonaws.com`)),
];

/** The two Lambda functions of the request path. */
export class TollgateFunctions extends Construct {
  readonly authorizer: NodejsFunction;
  readonly proxy: NodejsFunction;
  readonly proxyRole: Role;
  readonly authorizerRole: Role;

  constructor(scope: Construct, id: string, props: TollgateFunctionsProps) {
    super(scope, id);
    const common = {
      [ENV.keyPrefix]: props.keyPrefix,
      [ENV.maxBodyBytes]: String(props.maxBodyBytes),
      [ENV.credentialCacheSeconds]: String(props.credentialCacheSeconds),
      [ENV.callerCacheSeconds]: String(props.callerCacheSeconds),
      [ENV.requestLogRetentionDays]: String(props.requestLogRetentionDays),
      [ENV.corsOrigins]: props.corsOrigins.join(','),
      [ENV.keyring]: `kms:${props.key.keyArn}`,
      [ENV.firstByteTimeoutMs]: String(props.firstByteTimeoutMs),
      [ENV.idleTimeoutMs]: String(props.idleTimeoutMs),
      [ENV.heartbeatMs]: String(props.heartbeatMs),
      [ENV.publicAnalytics]: props.publicAnalytics ? 'on' : 'off',
    };
    const make = (id: 'Authorizer' | 'Proxy', name: LambdaName, memorySize: number, timeout: Duration) =>
      tollgateFunction(this, id, {
        name,
        memorySize,
        timeout,
        logRetention: props.logRetention,
        environment: common,
      });
    const authorizer = make('Authorizer', 'authorizer', 256, Duration.seconds(10));
    // At least the streamed integration's timeout: the function must outlast every answer it may stream.
    const proxy = make('Proxy', 'proxy', 512, Duration.millis(AWS_LIMITS.streamedIntegrationTimeoutMs));
    this.authorizer = authorizer.fn;
    this.authorizerRole = authorizer.role;
    this.proxy = proxy.fn;
    this.proxyRole = proxy.role;

    const tables = { tables: props.tables, key: props.key };
    bindTables({ user: 'authorizer', fn: authorizer.fn, role: authorizer.role, ...tables });
    bindTables({ user: 'proxy', fn: proxy.fn, role: proxy.role, ...tables });
    if (props.secretArns.length > 0) {
      proxy.role.addToPolicy(
        // IAM authorizes the secret's full ARN: a configured ARN without the six-character suffix Secrets
        // Manager adds matches only with it.
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: withSecretSuffix(props.secretArns),
        }),
      );
    }
    if (props.parameterArns.length > 0) {
      proxy.role.addToPolicy(
        new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [...props.parameterArns] }),
      );
      // A SecureString is decrypted by Parameter Store on the proxy's behalf under the operator's key, with
      // the parameter's ARN as encryption context: the grant is bound to the service and those parameters.
      proxy.role.addToPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'kms:ViaService': viaService('ssm', props.parameterArns),
              'kms:EncryptionContext:PARAMETER_ARN': [...props.parameterArns],
            },
          },
        }),
      );
    }
    // Credentials: the proxy decrypts data keys directly, and only under a {provider, credentialId} context.
    proxy.role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.key.keyArn],
        conditions: CREDENTIAL_CONTEXT_CONDITIONS,
      }),
    );
    if (props.secretArns.length > 0) {
      // A secret under a customer-managed key is decrypted by Secrets Manager on the proxy's behalf; the key
      // is the operator's (its policy must let this account's IAM grant use), so the grant is bound to the
      // service and to the configured secrets through the context Secrets Manager always sends.
      proxy.role.addToPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:ViaService': viaService('secretsmanager', props.secretArns) },
            StringLike: { 'kms:EncryptionContext:SecretARN': withSecretSuffix(props.secretArns) },
          },
        }),
      );
    }
    if (props.secretArns.length > 0 || props.parameterArns.length > 0) {
      Validations.of(proxy.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'The secrets’ and parameters’ KMS keys are the operator’s and unknown here; use is bound to Secrets Manager or Parameter Store and the configured ARNs.',
      });
    }
  }
}
