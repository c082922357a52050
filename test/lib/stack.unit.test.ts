/**
 * Infrastructure tests on the synthesized template: security properties, not a snapshot of everything.
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#shared/routes.ts';
import type { TableName } from '#shared/store/schema.ts';
import { DEFAULT_CONFIG, loadConfig } from '../../lib/config.ts';
import { TABLE_ACCESS } from '../../lib/constructs/table-access.ts';
import { TollgateStack } from '../../lib/stack.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  Resource?: unknown;
};

let template: Template;
let resources: Record<string, Resource>;

function synthApp(extra?: (stack: TollgateStack) => void): App {
  const app = new App();
  const stack = new TollgateStack(app, 'Tollgate', {
    config: DEFAULT_CONFIG,
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  extra?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

function logicalIdOf(type: string, pathPart: string): string {
  const match = Object.entries(template.findResources(type)).find(([id]) => id.includes(pathPart));
  if (match === undefined) throw new Error(`no ${type} whose id contains ${pathPart}`);
  return match[0];
}

function statementsOfRole(roleIdPart: string): Statement[] {
  const roleId = logicalIdOf('AWS::IAM::Role', roleIdPart);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

beforeAll(() => {
  const app = synthApp();
  const stack = app.node.findChild('Tollgate') as TollgateStack;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

describe('cdk-nag', () => {
  it('synthesizes with AwsSolutionsChecks and no unacknowledged error', () => {
    expect(() => synthApp().synth()).not.toThrow();
  });

  it('does fail synthesis on an unacknowledged finding (the check is live)', () => {
    const app = synthApp((stack) => {
      new Table(stack, 'Careless', { partitionKey: { name: 'id', type: 'S' as never } });
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });
});

describe('API', () => {
  it('proxies every route with STREAM transfer mode through response-streaming invocations', () => {
    // The management API (IAM-authorized, not streamed) is checked on its own below.
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.AuthorizationType !== 'AWS_IAM',
    );
    expect(methods).toHaveLength(ROUTES.length);
    for (const method of methods) {
      expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
      expect(method.Properties.Integration.ResponseTransferMode).toBe('STREAM');
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain('response-streaming-invocations');
    }
  });

  it('puts the cached authorizer on Bearer routes only: multi-carrier routes have none (the proxy checks their key), and the proxy keeps a checked key as long as the authorizer cache', () => {
    // Prepare
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    const authorizers = template.findResources('AWS::ApiGateway::Authorizer');
    const proxy = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes('TOLLGATE_CALLER_CACHE_SECONDS'),
    );

    // Assess
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId, authorizer] = Object.entries(authorizers)[0] ?? [];
    const custom = methods.filter((m) => m.Properties.AuthorizationType === 'CUSTOM');
    const open = methods.filter((m) => m.Properties.AuthorizationType === 'NONE');
    expect(custom).toHaveLength(ROUTES.filter((r) => r.auth === 'key' && r.carriers === 'bearer').length);
    expect(
      custom.every((m) => JSON.stringify(m.Properties.AuthorizerId).includes(String(authorizerId))),
    ).toBe(true);
    expect(open).toHaveLength(ROUTES.filter((r) => r.auth !== 'key' || r.carriers === 'any').length);
    expect(authorizer?.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: DEFAULT_CONFIG.authorizerCacheTtlSeconds,
    });
    const variables = (proxy?.Properties.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables;
    expect(variables?.TOLLGATE_CALLER_CACHE_SECONDS).toBe(String(DEFAULT_CONFIG.authorizerCacheTtlSeconds));
    // The admin function too: a split change near a month's end waits out the cached limits.
    const withKeys = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => (f.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables)
      .filter((v) => v?.TOLLGATE_KEY_PREFIX !== undefined);
    expect(withKeys).toHaveLength(3);
    for (const v of withKeys)
      expect(v?.TOLLGATE_CALLER_CACHE_SECONDS).toBe(String(DEFAULT_CONFIG.authorizerCacheTtlSeconds));
  });

  it('is regional, throttled, and logs access without headers or query strings', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];
    const format = String(stage?.Properties.AccessLogSetting.Format);
    expect(format).toContain('$context.requestId');
    expect(format.toLowerCase()).not.toMatch(/header|authorization|querystring|\$input|\$method\.request/);
    expect(stage?.Properties.MethodSettings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          DataTraceEnabled: false,
          ThrottlingRateLimit: DEFAULT_CONFIG.throttleRateLimit,
          ThrottlingBurstLimit: DEFAULT_CONFIG.throttleBurstLimit,
        }),
      ]),
    );
  });

  it('answers 401 from the authorizer in a body every SDK family parses', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp('"type":"authentication_error","code":"invalid_api_key"'),
      },
    });
  });
});

describe('encryption and tables', () => {
  it('uses a customer-managed key with rotation, retained on delete', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
  });

  it('keeps every table on demand, PITR, deletion-protected, KMS-encrypted and retained', () => {
    const tables = Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(6);
    for (const table of tables) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
    }
    const streamed = tables.filter(
      (t) =>
        (t.Properties.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType ===
        'NEW_AND_OLD_IMAGES',
    );
    expect(streamed).toHaveLength(3);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});

describe('request log indexes', () => {
  it('indexes the request log by key and by project, and lets the proxy and admin query exactly those indexes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byKey',
          KeySchema: [
            { AttributeName: 'keyId', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'byProject',
          KeySchema: [
            { AttributeName: 'project', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    const requestLog = logicalIdOf('AWS::DynamoDB::Table', 'RequestLog');
    for (const role of ['FunctionsProxyRole', 'AdminFunctionRole']) {
      const onLog = statementsOfRole(role).filter((s) => JSON.stringify(s.Resource).includes(requestLog));
      const resources = JSON.stringify(
        onLog.filter((s) => actionsOf(s).includes('dynamodb:Query')).map((s) => s.Resource),
      );
      expect(resources).toContain('/index/byKey');
      expect(resources).toContain('/index/byProject');
      expect(resources).not.toContain('/index/*');
    }
  });
});

describe('functions and IAM boundaries', () => {
  it('runs every function on nodejs24.x arm64 with bounded log retention', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      String(f.Properties.Handler).startsWith('index.'),
    );
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(DEFAULT_CONFIG.logRetentionDays);
    }
  });

  it('lets the authorizer read keys and teams and nothing else: no write, no direct decrypt', () => {
    const statements = statementsOfRole('FunctionsAuthorizerRole');
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:GetItem', 'dynamodb:GetItem']);
    expect(JSON.stringify(dynamo.map((s) => s.Resource))).toContain(
      logicalIdOf('AWS::DynamoDB::Table', 'TablesKeys'),
    );
    expect(JSON.stringify(dynamo.map((s) => s.Resource))).toContain(
      logicalIdOf('AWS::DynamoDB::Table', 'TablesTeams'),
    );
    const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) {
      expect(actionsOf(s)).not.toContain('kms:Encrypt');
      expect(s.Condition?.StringEquals?.['kms:ViaService']).toBeDefined();
    }
    const writes = statements
      .flatMap(actionsOf)
      .filter((a) => /Put|Update|Delete|Write|Create/.test(a) && a.startsWith('dynamodb:'));
    expect(writes).toEqual([]);
  });

  it('lets the proxy decrypt credentials only under their encryption context', () => {
    const statements = statementsOfRole('FunctionsProxyRole');
    const direct = statements.filter(
      (s) =>
        actionsOf(s).includes('kms:Decrypt') && s.Condition?.StringEquals?.['kms:ViaService'] === undefined,
    );
    expect(direct).toHaveLength(1);
    expect(direct[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['provider', 'credentialId'] },
      Null: { 'kms:EncryptionContext:provider': 'false', 'kms:EncryptionContext:credentialId': 'false' },
    });
    expect(statements.flatMap(actionsOf)).not.toContain('dynamodb:DeleteItem');
  });

  it('lets the proxy read a team (with its key, in one BatchGetItem) without being able to change it', () => {
    const statements = statementsOfRole('FunctionsProxyRole');
    const teamsTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesTeams');
    const onTeams = statements.filter((s) => JSON.stringify(s.Resource).includes(teamsTable));
    expect(onTeams.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
  });

  it('denies credential decryption to every principal but the proxy in the key policy', () => {
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    const deny = ((key?.Properties.KeyPolicy.Statement ?? []) as Array<Statement & { Sid?: string }>).find(
      (s) => s.Sid === 'OnlyTheProxyDecryptsCredentials',
    );
    expect(deny?.Effect).toBe('Deny');
    expect(JSON.stringify(deny?.Condition?.ArnNotEquals)).toContain(
      logicalIdOf('AWS::IAM::Role', 'FunctionsProxyRole'),
    );
  });

  it('passes the stream timings to the proxy through the env contract', () => {
    const proxy = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes('TOLLGATE_PROVIDERS_TABLE'),
    );
    expect(proxy?.Properties.Environment.Variables).toMatchObject({
      TOLLGATE_FIRST_BYTE_TIMEOUT_MS: '120000',
      TOLLGATE_IDLE_TIMEOUT_MS: '300000',
      TOLLGATE_HEARTBEAT_MS: '15000',
    });
  });

  it('outputs the API URL, table names and key ARN', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'KeysTableName',
        'ProvidersTableName',
        'UsageTableName',
        'RequestLogTableName',
        'KeyArn',
      ]),
    );
  });
});

describe('audit pipeline', () => {
  it('maps the keys, teams and providers streams with partial batch responses, bisection, bounded retries and age', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(3);
    const bucket = logicalIdOf('AWS::S3::Bucket', 'AuditFailedBatches');
    for (const mapping of mappings) {
      expect(mapping.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 6 * 3600,
        StartingPosition: 'TRIM_HORIZON',
      });
      expect(mapping.Properties.MaximumRecordAgeInSeconds).toBeLessThan(24 * 3600);
      expect(JSON.stringify(mapping.Properties.DestinationConfig.OnFailure.Destination)).toContain(bucket);
    }
    const sources = JSON.stringify(mappings.map((m) => m.Properties.EventSourceArn));
    for (const table of ['TablesKeys', 'TablesTeams', 'TablesProviders'])
      expect(sources).toContain(logicalIdOf('AWS::DynamoDB::Table', table));
  });

  it('alarms as soon as anything reaches the failure queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf('AWS::SQS::Queue', 'AuditFailures'), 'QueueName'] },
        },
      ],
    });
  });

  it('lets only the audit function write the audit table, which keeps PITR, deletion protection and no TTL', () => {
    const auditTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit');
    const writers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some(
        (s) =>
          JSON.stringify(s.Resource).includes(auditTable) &&
          actionsOf(s).some((a) => /Put|Update|Delete|Write/.test(a)),
      ),
    );
    expect(writers).toHaveLength(1);
    expect(JSON.stringify(writers[0]?.[1].Properties.Roles)).toContain(
      logicalIdOf('AWS::IAM::Role', 'AuditFunctionRole'),
    );
    const table = template.toJSON().Resources[auditTable];
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(table.Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('signs digests with an ECC_NIST_P256 SIGN_VERIFY key only the audit function may use', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key')).filter(
      (k) => k.Properties.KeySpec === 'ECC_NIST_P256',
    );
    expect(keys).toHaveLength(1);
    expect(keys[0]?.Properties.KeyUsage).toBe('SIGN_VERIFY');
    const deny = (
      (keys[0]?.Properties.KeyPolicy.Statement ?? []) as Array<Statement & { Sid?: string }>
    ).find((s) => s.Sid === 'OnlyTheAuditFunctionSigns');
    expect(deny?.Effect).toBe('Deny');
    expect(JSON.stringify(deny?.Condition?.ArnNotEquals)).toContain(
      logicalIdOf('AWS::IAM::Role', 'AuditFunctionRole'),
    );
    const signers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((s) => actionsOf(s).includes('kms:Sign')),
    );
    expect(signers).toHaveLength(1);
  });
});

describe('table grants', () => {
  const ROLES = {
    authorizer: 'FunctionsAuthorizerRole',
    proxy: 'FunctionsProxyRole',
    admin: 'AdminFunctionRole',
    audit: 'AuditFunctionRole',
  };
  // The audit function's event source mappings read the streams; those grants are not table access.
  const STREAM_READS = new Set([
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
  ]);
  const TABLE_IDS: Record<TableName, string> = {
    keys: 'TablesKeys',
    teams: 'TablesTeams',
    providers: 'TablesProviders',
    usage: 'TablesUsage',
    requestLog: 'TablesRequestLog',
    audit: 'TablesAudit',
  };

  it.each(Object.keys(ROLES) as Array<keyof typeof ROLES>)(
    'give the %s role exactly the DynamoDB actions TABLE_ACCESS lists, table by table',
    (fn) => {
      const statements = statementsOfRole(ROLES[fn]);
      const granted = Object.fromEntries(
        (Object.keys(TABLE_IDS) as TableName[]).map((table) => {
          const id = logicalIdOf('AWS::DynamoDB::Table', TABLE_IDS[table]);
          const actions = statements
            .filter((st) => JSON.stringify(st.Resource).includes(`"${id}"`))
            .flatMap(actionsOf)
            .filter((a) => a.startsWith('dynamodb:') && !STREAM_READS.has(a));
          return [table, [...new Set(actions)].sort()];
        }),
      );
      const listed: Partial<Record<TableName, readonly string[]>> = TABLE_ACCESS[fn];
      const expected = Object.fromEntries(
        (Object.keys(TABLE_IDS) as TableName[]).map((table) => [table, [...(listed[table] ?? [])].sort()]),
      );
      expect(granted).toEqual(expected);
    },
  );
});

describe('management API', () => {
  it('authorizes /admin with AWS IAM, served by its own function that cannot decrypt credentials', () => {
    const adminMethods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.AuthorizationType === 'AWS_IAM',
    );
    expect(adminMethods).toHaveLength(2);
    for (const method of adminMethods) expect(method.Properties.HttpMethod).toBe('ANY');
    const statements = statementsOfRole('AdminFunctionRole');
    const direct = statements.filter(
      (s) =>
        actionsOf(s).includes('kms:Decrypt') && s.Condition?.StringEquals?.['kms:ViaService'] === undefined,
    );
    expect(direct).toEqual([]);
    expect(statements.flatMap(actionsOf)).toContain('kms:GenerateDataKey');
  });

  it('runs the admin function hourly to bill expired reservations, writing only the usage counters for it', () => {
    const adminFn = logicalIdOf('AWS::Lambda::Function', 'AdminFunction');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.Targets).includes(adminFn),
    );
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 hour)']);
    const usageTable = logicalIdOf('AWS::DynamoDB::Table', 'Usage');
    const onUsage = statementsOfRole('AdminFunctionRole').filter(
      (s) =>
        JSON.stringify(s.Resource).includes(usageTable) &&
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    expect(onUsage.flatMap(actionsOf).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
  });
});

describe('observability', () => {
  it('has a dashboard of the API, the functions and Tollgate’s own metrics', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const metric of [
      '5XXError',
      'Latency',
      'TimeToFirstByte',
      'InputTokens',
      'CostMicroUSD',
      'Throttles',
      'Tollgate',
    ])
      expect(body).toContain(metric);
  });

  it('alarms on the 5xx rate, authorizer errors, throttles, function errors, settlement failures and the audit failure queue', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const text = alarms.map((a) => JSON.stringify(a.Properties));
    expect(alarms).toHaveLength(8);
    expect(
      text.some(
        (t) =>
          t.includes('"MetricName":"SettlementFailures"') &&
          t.includes('"Namespace":"Tollgate"') &&
          t.includes('"Threshold":1'),
      ),
    ).toBe(true);
    expect(text.some((t) => t.includes('100 * errors / MAX([requests, 1])') && t.includes('5XXError'))).toBe(
      true,
    );
    expect(text.some((t) => t.includes('authorizer + proxy + audit') && t.includes('Throttles'))).toBe(true);
    expect(text.filter((t) => t.includes('"MetricName":"Errors"'))).toHaveLength(3);
    expect(text.some((t) => t.includes('ApproximateNumberOfMessagesVisible'))).toBe(true);
    expect(text.some((t) => t.includes('"MetricName":"PutRequests"'))).toBe(true);
    expect(template.findResources('AWS::SNS::Topic')).toEqual({});
  });

  it('sends every alarm to an SNS topic when an alarm e-mail is configured', () => {
    const app = new App();
    const stack = new TollgateStack(app, 'WithTopic', {
      config: { ...DEFAULT_CONFIG, alarmEmail: 'ops@example.com' },
      env: { account: '111122223333', region: 'eu-west-1' },
    });
    const withTopic = Template.fromStack(stack);
    withTopic.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const topic = Object.keys(withTopic.findResources('AWS::SNS::Topic'))[0] ?? '';
    for (const alarm of Object.values(withTopic.findResources('AWS::CloudWatch::Alarm'))) {
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain(topic);
    }
    expect(() => loadConfig(new App({ context: { 'tollgate:alarmEmail': 'not-an-address' } }))).toThrow(
      /tollgate:alarmEmail/,
    );
  });
});

describe('Secrets Manager references', () => {
  it('grants the proxy GetSecretValue on exactly the configured secrets, and nothing without any', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/openai-AbCdEf';
    const app = new App();
    const stack = new TollgateStack(app, 'WithSecrets', {
      config: { ...DEFAULT_CONFIG, secretArns: [arn] },
      env: { account: '111122223333', region: 'eu-west-1' },
    });

    // Act
    const withSecrets = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));

    // Assess
    expect(withSecrets).toContain('secretsmanager:GetSecretValue');
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(statements).toHaveLength(1);
    // IAM authorizes the secret's full ARN, so a configured one without its suffix matches only with it.
    expect(statements[0]?.Resource).toEqual([arn, `${arn}-??????`]);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('secretsmanager');
  });

  it('grants the proxy GetParameter and a Parameter-Store-bound Decrypt on exactly the configured parameters', () => {
    // Prepare: one parameter in another region, which the proxy reads there, through that region's service.
    const arns = [
      'arn:aws:ssm:eu-west-1:111122223333:parameter/tollgate/openai',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/tollgate/anthropic',
      'arn:aws:ssm:us-east-1:111122223333:parameter/tollgate/gemini',
    ];
    const app = new App();
    const stack = new TollgateStack(app, 'WithParameters', {
      config: { ...DEFAULT_CONFIG, parameterArns: arns },
      env: { account: '111122223333', region: 'eu-west-1' },
    });

    // Act
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );

    // Assess
    const get = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')));
    expect(get).toHaveLength(1);
    expect(actionsOf(get[0] as Statement)).toEqual(['ssm:GetParameter']);
    expect(get[0]?.Resource).toEqual(arns);
    const viaSsm = statements.filter((s) => JSON.stringify(s.Condition ?? {}).includes('ssm.eu-west-1'));
    expect(viaSsm).toHaveLength(1);
    expect(viaSsm[0]).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: {
        StringEquals: {
          'kms:ViaService': ['ssm.eu-west-1.amazonaws.com', 'ssm.us-east-1.amazonaws.com'],
          'kms:EncryptionContext:PARAMETER_ARN': arns,
        },
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/ssm:|PARAMETER_ARN/);
  });
});

describe('deploy configuration', () => {
  it('rejects a bad context value with a message naming it', () => {
    const app = new App({ context: { 'tollgate:authorizerCacheTtlSeconds': 99999 } });
    expect(() => loadConfig(app)).toThrow(/tollgate:authorizerCacheTtlSeconds/);
    const retention = new App({ context: { 'tollgate:logRetentionDays': 2 } });
    expect(() => loadConfig(retention)).toThrow(/tollgate:logRetentionDays/);
    const secrets = new App({ context: { 'tollgate:secretArns': ['arn:aws:s3:::bucket'] } });
    expect(() => loadConfig(secrets)).toThrow(/tollgate:secretArns/);
    const wildcard = new App({
      context: { 'tollgate:parameterArns': ['arn:aws:ssm:eu-west-1:111122223333:parameter/*'] },
    });
    expect(() => loadConfig(wildcard)).toThrow(/tollgate:parameterArns/);
  });
});

describe('deploy options', () => {
  const synth = (config: Partial<typeof DEFAULT_CONFIG>) => {
    const app = new App();
    return Template.fromStack(
      new TollgateStack(app, 'Options', {
        config: { ...DEFAULT_CONFIG, ...config },
        env: { account: '111122223333', region: 'eu-west-1' },
      }),
    );
  };

  it('serves a custom domain with its ACM certificate and outputs the DNS target', () => {
    const certificateArn =
      'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    const t = synth({ customDomain: { domainName: 'llm.example.com', certificateArn } });
    t.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'llm.example.com',
      RegionalCertificateArn: certificateArn,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    expect(Object.keys(t.toJSON().Outputs)).toContain('CustomDomainTarget');
  });

  it('associates a WAF web ACL with the stage', () => {
    const webAclArn = 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/tollgate/0a1b2c3d';
    synth({ wafWebAclArn: webAclArn }).hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: webAclArn,
    });
  });

  it('answers CORS preflight for the configured origins and tells the proxy about them', () => {
    const t = synth({ corsOrigins: ['https://app.example.com'] });
    const options = Object.values(t.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod === 'OPTIONS',
    );
    expect(options.length).toBeGreaterThanOrEqual(ROUTES.length);
    expect(JSON.stringify(options[0]?.Properties.Integration)).toContain('https://app.example.com');
    expect(JSON.stringify(t.findResources('AWS::Lambda::Function'))).toContain(
      '"TOLLGATE_CORS_ORIGINS":"https://app.example.com"',
    );
    expect(() => {
      const app = new App();
      new TollgateStack(app, 'Cors', {
        config: { ...DEFAULT_CONFIG, corsOrigins: ['https://app.example.com'] },
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      app.synth();
    }).not.toThrow();
  });

  it.each([
    ['customDomain', { domainName: 'llm.example.com' }],
    [
      'customDomain',
      { domainName: 'not a domain', certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b' },
    ],
    ['wafWebAclArn', 'arn:aws:wafv2:eu-west-1:111122223333:global/webacl/x/1'],
    ['corsOrigins', ['https://app.example.com/path']],
    ['stageName', 'has spaces'],
    ['throttleRateLimit', 0],
    ['keyPrefix', 'Bad Prefix'],
  ])('fails synth with a message naming tollgate:%s for a bad value', (option, value) => {
    expect(() => loadConfig(new App({ context: { [`tollgate:${option}`]: value } }))).toThrow(
      new RegExp(`tollgate:${option}`),
    );
  });
});
