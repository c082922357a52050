/**
 * The deployed path checked against AWS's documented limits and semantics, on the synthesized templates:
 * integration timeouts, gateway responses (statuses, mappings, CORS), the audit failure bucket, metric and
 * dimension agreement, names from the stack name, IAM edges, and synth refusing out-of-range settings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { emfMetrics } from '#shared/metrics.ts';
import {
  AWS_LIMITS,
  credentialPolicyChars,
  MAX_BODY_BYTES,
  PROXY_POLICY_BASE_CHARS,
} from '../../lib/aws-limits.ts';
import { DEFAULT_CONFIG, loadConfig, type TollgateConfig } from '../../lib/config.ts';
import { EMITTED_DIMENSIONS } from '../../lib/constructs/observability.ts';
import { TollgateStack } from '../../lib/stack.ts';
import { captureStdout } from '../helpers/capture-stdout.ts';

/** A template resource as the assertions library types it. */
type Resource = ReturnType<Template['findResources']>[string];
type Statement = {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, unknown>;
  Resource?: unknown;
};

const ENV = { account: '111122223333', region: 'eu-west-1' };
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/openai-AbCdEf';

function synth(stacks: Record<string, Partial<TollgateConfig>>): Record<string, Template> {
  const app = new App();
  const out: Record<string, TollgateStack> = {};
  for (const [name, config] of Object.entries(stacks)) {
    out[name] = new TollgateStack(app, name, { config: { ...DEFAULT_CONFIG, ...config }, env: ENV });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return Object.fromEntries(Object.entries(out).map(([name, stack]) => [name, Template.fromStack(stack)]));
}

const resourcesOf = (t: Template, type: string): Resource[] => Object.values(t.findResources(type));
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function statementsOfRole(t: Template, roleIdPart: string): Statement[] {
  const roleId = Object.keys(t.findResources('AWS::IAM::Role')).find((id) => id.includes(roleIdPart));
  if (roleId === undefined) throw new Error(`no role ${roleIdPart}`);
  return resourcesOf(t, 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

let plain: Template;
let cors: Template;
let corsTwin: Template;

beforeAll(() => {
  // Prepare: one default stack, and two differently named stacks with CORS and secrets in one app.
  ({ Tollgate: plain } = synth({ Tollgate: {} }) as { Tollgate: Template });
  const twins = synth({
    TollgateA: { corsOrigins: ['https://a.example.com', 'https://b.example.com'], secretArns: [SECRET] },
    TollgateB: { corsOrigins: ['https://a.example.com'] },
  });
  cors = twins.TollgateA as Template;
  corsTwin = twins.TollgateB as Template;
});

describe('integration timeouts', () => {
  it('gives every streamed route the 15-minute streaming maximum, within the proxy function timeout', () => {
    // Act
    const streamed = resourcesOf(plain, 'AWS::ApiGateway::Method').filter(
      (m) => m.Properties.Integration?.ResponseTransferMode === 'STREAM',
    );
    const proxy = resourcesOf(plain, 'AWS::Lambda::Function').find((f) =>
      JSON.stringify(f.Properties.Role).includes('FunctionsProxyRole'),
    );

    // Assess
    expect(streamed.length).toBeGreaterThan(0);
    for (const method of streamed) expect(method.Properties.Integration.TimeoutInMillis).toBe(900_000);
    expect(proxy?.Properties.Timeout * 1000).toBeGreaterThanOrEqual(AWS_LIMITS.streamedIntegrationTimeoutMs);
  });

  it('ends the management function before its buffered integration gives up', () => {
    // Act
    const admin = resourcesOf(plain, 'AWS::ApiGateway::Method').filter(
      (m) => m.Properties.AuthorizationType === 'AWS_IAM',
    );
    const fn = resourcesOf(plain, 'AWS::Lambda::Function').find((f) =>
      JSON.stringify(f.Properties.Role).includes('AdminFunctionRole'),
    );

    // Assess
    expect(admin).toHaveLength(2);
    for (const method of admin) {
      expect(method.Properties.Integration.ResponseTransferMode ?? 'BUFFERED').toBe('BUFFERED');
      expect(method.Properties.Integration.TimeoutInMillis).toBe(AWS_LIMITS.bufferedIntegrationTimeoutMs);
    }
    expect(fn?.Properties.Timeout * 1000).toBeLessThan(AWS_LIMITS.bufferedIntegrationTimeoutMs);
  });
});

describe('synth refuses settings AWS cannot honour', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'tollgate-synth-'));
  it.each([
    ['firstByteTimeoutMs', AWS_LIMITS.regionalStreamIdleMs, /idle limit/],
    ['heartbeatMs', AWS_LIMITS.regionalStreamIdleMs, /idle limit/],
    ['maxBodyBytes', MAX_BODY_BYTES + 1, /6 MB synchronous payload/],
    ['adminTimeoutSeconds', 29, /29 s timeout/],
  ])('refuses tollgate:%s = %s with one line naming it', (option, value, why) => {
    // Act: the CDK app itself, as `cdk synth` runs it, with the context CDK passes.
    const run = spawnSync(process.execPath, ['bin/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ [`tollgate:${option}`]: value }),
      },
    });

    // Assess
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^cdk\\.json context "tollgate:${option}" `));
    expect(lines[0]).toMatch(why);
  });

  it('accepts the values just inside each limit', () => {
    // Prepare
    const app = new App({
      context: {
        'tollgate:firstByteTimeoutMs': AWS_LIMITS.regionalStreamIdleMs - 1,
        'tollgate:heartbeatMs': AWS_LIMITS.regionalStreamIdleMs - 1,
        'tollgate:maxBodyBytes': MAX_BODY_BYTES,
        'tollgate:adminTimeoutSeconds': 28,
      },
    });

    // Act
    const config = loadConfig(app);

    // Assess
    expect(config).toMatchObject({ maxBodyBytes: MAX_BODY_BYTES, adminTimeoutSeconds: 28 });
  });
});

/**
 * The characters IAM counts in a role's inline policies (whitespace not), with every reference the template
 * leaves to CloudFormation (a table's or a key's ARN) taken as 110 characters: longer than any of them gets
 * with a long stack name, account and region.
 */
function rolePolicyChars(t: Template, roleIdPart: string): number {
  const resolved = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolved);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [name, argument] = entries[0] ?? [];
    if (entries.length === 1 && name === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map(resolved).join(separator);
    }
    if (entries.length === 1 && (name === 'Ref' || name?.startsWith('Fn::'))) return 'a'.repeat(110);
    return Object.fromEntries(entries.map(([k, v]) => [k, resolved(v)]));
  };
  const roleId = Object.keys(t.findResources('AWS::IAM::Role')).find((id) => id.includes(roleIdPart));
  return resourcesOf(t, 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(String(roleId)))
    .reduce(
      (sum, p) => sum + JSON.stringify(resolved(p.Properties.PolicyDocument)).replace(/\s/g, '').length,
      0,
    );
}

describe("IAM's quota on a role's policies", () => {
  const secrets = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:tollgate/provider-${i}-AbCdEf`,
    );
  const parameters = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `arn:aws:ssm:eu-west-1:111122223333:parameter/tollgate/provider-${i}`,
    );

  it('keeps the proxy role within it, and the estimate the config check uses above the real size', () => {
    // Prepare: as many ARNs as the check lets through, and the role without any.
    const arns = { secretArns: secrets(17), parameterArns: parameters(8) };
    const estimate = PROXY_POLICY_BASE_CHARS + credentialPolicyChars(arns);
    const { Loaded: loaded } = synth({ Loaded: arns }) as { Loaded: Template };

    // Act
    const base = rolePolicyChars(plain, 'FunctionsProxyRole');
    const size = rolePolicyChars(loaded, 'FunctionsProxyRole');

    // Assess
    expect(estimate).toBeLessThanOrEqual(AWS_LIMITS.rolePolicyChars);
    expect(() =>
      loadConfig(
        new App({
          context: { 'tollgate:secretArns': arns.secretArns, 'tollgate:parameterArns': arns.parameterArns },
        }),
      ),
    ).not.toThrow();
    expect(base).toBeLessThanOrEqual(PROXY_POLICY_BASE_CHARS);
    expect(size).toBeLessThanOrEqual(estimate);
    expect(size).toBeLessThanOrEqual(AWS_LIMITS.rolePolicyChars);
  });

  it('refuses at synth the ARN lists that would pass it, naming the setting', () => {
    const app = new App({ context: { 'tollgate:secretArns': secrets(40) } });
    expect(() => loadConfig(app)).toThrow(/tollgate:secretArns.*10240/);
  });
});

describe('gateway responses', () => {
  const responses = () =>
    Object.fromEntries(
      resourcesOf(plain, 'AWS::ApiGateway::GatewayResponse').map((r) => [
        r.Properties.ResponseType,
        r.Properties,
      ]),
    );

  it('never overrides the status of the DEFAULT_4XX/DEFAULT_5XX fallbacks', () => {
    // Act
    const all = responses();

    // Assess
    expect(all.DEFAULT_4XX).toBeDefined();
    expect(all.DEFAULT_5XX).toBeDefined();
    expect(all.DEFAULT_4XX.StatusCode).toBeUndefined();
    expect(all.DEFAULT_5XX.StatusCode).toBeUndefined();
  });

  it.each([
    ['UNAUTHORIZED', '401'],
    ['ACCESS_DENIED', '403'],
    ['THROTTLED', '429'],
    ['INTEGRATION_TIMEOUT', '504'],
    ['INTEGRATION_FAILURE', '502'],
  ])('sets %s explicitly to %s', (type, status) => {
    expect(responses()[type]?.StatusCode).toBe(status);
  });

  it('maps headers only from sources API Gateway documents for gateway responses, and puts the request id in the body', () => {
    // Prepare: request parameters, stage variables or literals; never $context.
    const documented =
      /^('[^']*'|method\.request\.(header|path|querystring)\.[A-Za-z0-9._-]+|stageVariables\.\w+)$/;

    // Act
    const all = [
      ...resourcesOf(plain, 'AWS::ApiGateway::GatewayResponse'),
      ...resourcesOf(cors, 'AWS::ApiGateway::GatewayResponse'),
    ];

    // Assess
    for (const response of all) {
      for (const [name, source] of Object.entries(response.Properties.ResponseParameters ?? {})) {
        expect(name).toMatch(/^gatewayresponse\.header\.[a-z-]+$/);
        expect(source).toMatch(documented);
      }
      const template = response.Properties.ResponseTemplates['application/json'] as string;
      expect(template).toContain('"request_id":"$context.requestId"');
    }
  });

  it('answers IAM denials on /admin in a body management clients read (error.code, error.message)', () => {
    // Act: API Gateway substitutes its own (JSON-quoted) message for the slot.
    const template = responses().ACCESS_DENIED.ResponseTemplates['application/json'] as string;
    const body = JSON.parse(
      template.replace('$context.error.messageString', '"User: arn:aws:iam::1:user/x is not authorized"'),
    );

    // Assess
    expect(body.error).toMatchObject({
      code: 'forbidden',
      message: 'User: arn:aws:iam::1:user/x is not authorized',
    });
  });

  it('carries the CORS headers on every gateway response when origins are configured', () => {
    // Act
    const withCors = resourcesOf(cors, 'AWS::ApiGateway::GatewayResponse');
    const single = resourcesOf(corsTwin, 'AWS::ApiGateway::GatewayResponse');

    // Assess: several origins echo the request's Origin; one is sent as a literal.
    for (const r of withCors) {
      expect(r.Properties.ResponseParameters['gatewayresponse.header.access-control-allow-origin']).toBe(
        'method.request.header.origin',
      );
      expect(
        r.Properties.ResponseParameters['gatewayresponse.header.access-control-expose-headers'],
      ).toContain('x-request-id');
    }
    for (const r of single) {
      expect(r.Properties.ResponseParameters['gatewayresponse.header.access-control-allow-origin']).toBe(
        "'https://a.example.com'",
      );
    }
    for (const r of resourcesOf(plain, 'AWS::ApiGateway::GatewayResponse')) {
      expect(Object.keys(r.Properties.ResponseParameters)).not.toContain(
        'gatewayresponse.header.access-control-allow-origin',
      );
    }
  });

  it('lets browsers preflight the headers the official SDKs send', () => {
    // Act
    const preflight = resourcesOf(cors, 'AWS::ApiGateway::Method').filter(
      (m) => m.Properties.HttpMethod === 'OPTIONS',
    );
    const allowed = JSON.stringify(preflight[0]?.Properties.Integration.IntegrationResponses);

    // Assess
    for (const header of [
      'x-stainless-lang',
      'x-stainless-retry-count',
      'anthropic-dangerous-direct-browser-access',
      'authorization',
    ])
      expect(allowed).toContain(header);
  });
});

describe('audit failed batches', () => {
  it('keeps whole invocation records in an encrypted, versioned, retained, private bucket', () => {
    // Act
    const bucket = Object.entries(plain.findResources('AWS::S3::Bucket')).find(([id]) =>
      id.startsWith('AuditFailedBatches'),
    )?.[1];
    const mappings = resourcesOf(plain, 'AWS::Lambda::EventSourceMapping');

    // Assess
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(bucket?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(JSON.stringify(plain.findResources('AWS::S3::BucketPolicy'))).toContain('aws:SecureTransport');
    for (const mapping of mappings)
      expect(JSON.stringify(mapping.Properties.DestinationConfig.OnFailure.Destination)).toContain(
        'AuditFailedBatches',
      );
  });

  it('lets the audit function put and list there, not read back', () => {
    // Act
    const s3 = statementsOfRole(plain, 'AuditFunctionRole')
      .filter((st) => JSON.stringify(st.Resource).includes('AuditFailedBatches'))
      .flatMap(actionsOf);

    // Assess
    expect(s3.sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
  });

  it('alarms on the first object put into the bucket', () => {
    plain.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'PutRequests',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

/** AWS's documented dimension sets of the AWS metrics the stack watches. */
const AWS_DIMENSIONS: Record<string, string[][]> = {
  'AWS/ApiGateway': [['ApiName'], ['ApiName', 'Stage'], ['ApiName', 'Method', 'Resource', 'Stage']],
  'AWS/Lambda': [['FunctionName'], ['FunctionName', 'Resource']],
  'AWS/SQS': [['QueueName']],
  'AWS/S3': [['BucketName', 'FilterId']],
};

/** Renders a CloudFormation value to text, replacing references by a placeholder. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join !== undefined) return join[1].map(flatten).join(join[0]);
  return 'REF';
}

/** Every (namespace, metric, dimension set) a dashboard widget or alarm names. */
function referencedMetrics(
  t: Template,
): Array<{ namespace: string; metric: string; dimensions: string[]; where: string }> {
  const out: Array<{ namespace: string; metric: string; dimensions: string[]; where: string }> = [];
  const fromSearch = (expression: string, where: string) => {
    for (const m of expression.matchAll(/SEARCH\('\{([^}]+)\} MetricName="([^"]+)"/g)) {
      const [namespace = '', ...dimensions] = (m[1] ?? '').split(',');
      out.push({ namespace, metric: m[2] ?? '', dimensions, where });
    }
  };
  for (const dashboard of resourcesOf(t, 'AWS::CloudWatch::Dashboard')) {
    const body = JSON.parse(flatten(dashboard.Properties.DashboardBody)) as {
      widgets: Array<{ properties: { title: string; metrics?: unknown[][] } }>;
    };
    for (const widget of body.widgets) {
      for (const row of widget.properties.metrics ?? []) {
        const [first] = row;
        if (typeof first === 'object' && first !== null && 'expression' in first) {
          fromSearch(String((first as { expression: string }).expression), widget.properties.title);
          continue;
        }
        const names = row.filter((x): x is string => typeof x === 'string');
        const [namespace = '', metric = '', ...pairs] = names;
        out.push({
          namespace,
          metric,
          dimensions: pairs.filter((_, i) => i % 2 === 0),
          where: widget.properties.title,
        });
      }
    }
  }
  for (const alarm of resourcesOf(t, 'AWS::CloudWatch::Alarm')) {
    const where = String(alarm.Properties.AlarmDescription);
    const single = alarm.Properties.MetricName === undefined ? [] : [alarm.Properties];
    const stats = (alarm.Properties.Metrics ?? []).flatMap((m: Resource) => {
      if (m.Expression !== undefined) fromSearch(m.Expression, where);
      return m.MetricStat === undefined
        ? []
        : [
            {
              Namespace: m.MetricStat.Metric.Namespace,
              MetricName: m.MetricStat.Metric.MetricName,
              Dimensions: m.MetricStat.Metric.Dimensions,
            },
          ];
    });
    for (const m of [...single, ...stats]) {
      out.push({
        namespace: m.Namespace,
        metric: m.MetricName,
        dimensions: (m.Dimensions ?? []).map((d: { Name: string }) => d.Name),
        where,
      });
    }
  }
  return out;
}

describe('observability shows data', () => {
  it('names every metric with exactly the dimensions the code emits (Tollgate) or AWS documents (AWS/*)', () => {
    // Prepare: what the metrics code really writes, read back from its EMF lines.
    const capture = captureStdout();
    emfMetrics.request({ route: 'chat', status: 500, code: 'internal_error' });
    emfMetrics.settlementFailed?.();
    emfMetrics.upstream({
      provider: 'p',
      model: 'm',
      inputTokens: 1,
      outputTokens: 1,
      costMicros: 1,
      ttfbMs: 1,
      upstreamMs: 1,
    });
    capture.restore();
    const emitted = new Map<string, string>();
    for (const line of capture.lines
      .join('')
      .split('\n')
      .filter((l) => l.includes('"_aws"'))) {
      const emf = JSON.parse(line) as {
        _aws: {
          CloudWatchMetrics: Array<{
            Namespace: string;
            Dimensions: string[][];
            Metrics: Array<{ Name: string }>;
          }>;
        };
      };
      for (const directive of emf._aws.CloudWatchMetrics)
        for (const metric of directive.Metrics)
          for (const dims of directive.Dimensions)
            emitted.set(`${directive.Namespace}/${metric.Name}`, [...dims].sort().join(','));
    }

    // Act
    const referenced = referencedMetrics(plain);

    // Assess
    expect(emitted.size).toBe(Object.keys(EMITTED_DIMENSIONS).length);
    for (const [metric, dims] of Object.entries(EMITTED_DIMENSIONS))
      expect(emitted.get(`Tollgate/${metric}`), metric).toBe([...dims].sort().join(','));
    expect(referenced.filter((r) => r.namespace === 'Tollgate').length).toBeGreaterThanOrEqual(6);
    for (const ref of referenced) {
      const dims = [...ref.dimensions].sort().join(',');
      if (ref.namespace === 'Tollgate') {
        expect(emitted.get(`Tollgate/${ref.metric}`), `${ref.where}: ${ref.metric}`).toBe(dims);
      } else {
        const documented = (AWS_DIMENSIONS[ref.namespace] ?? []).map((set) => [...set].sort().join(','));
        expect(documented, `${ref.where}: ${ref.namespace} ${ref.metric} by ${dims}`).toContain(dims);
      }
    }
  });
});

describe('names unique per account and region', () => {
  it('derives the REST API and dashboard names from the stack name, so two stacks coexist', () => {
    // Act
    const names = [cors, corsTwin].map((t) => ({
      api: resourcesOf(t, 'AWS::ApiGateway::RestApi')[0]?.Properties.Name,
      dashboard: resourcesOf(t, 'AWS::CloudWatch::Dashboard')[0]?.Properties.DashboardName,
      alias: resourcesOf(t, 'AWS::KMS::Alias')[0]?.Properties.AliasName,
    }));

    // Assess
    expect(names[0]).toEqual({ api: 'TollgateA', dashboard: 'TollgateA-v1', alias: 'alias/TollgateA' });
    expect(names[1]).toEqual({ api: 'TollgateB', dashboard: 'TollgateB-v1', alias: 'alias/TollgateB' });
  });
});

describe('IAM edges', () => {
  it('keeps the audit function from decrypting anything DynamoDB does not decrypt for it', () => {
    // Act
    const deny = statementsOfRole(plain, 'AuditFunctionRole').filter(
      (s) => s.Effect === 'Deny' && actionsOf(s).includes('kms:Decrypt'),
    );

    // Assess
    expect(deny).toHaveLength(1);
    expect(deny[0]?.Condition).toEqual({
      StringNotEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' },
    });
  });

  it('binds the admin role’s GenerateDataKey to the same credential context as the proxy’s Decrypt', () => {
    // Act
    const generate = statementsOfRole(plain, 'AdminFunctionRole').filter(
      (s) => actionsOf(s).includes('kms:GenerateDataKey') && s.Condition?.Null !== undefined,
    );
    const decrypt = statementsOfRole(plain, 'FunctionsProxyRole').filter(
      (s) => actionsOf(s).includes('kms:Decrypt') && s.Condition?.Null !== undefined,
    );

    // Assess
    expect(generate).toHaveLength(1);
    expect(decrypt).toHaveLength(1);
    expect(generate[0]?.Condition).toEqual(decrypt[0]?.Condition);
  });

  it('lets the proxy read configured secrets under a customer-managed key, through Secrets Manager only', () => {
    // Act
    const viaSecrets = statementsOfRole(cors, 'FunctionsProxyRole').filter((s) =>
      JSON.stringify(s.Condition ?? {}).includes('secretsmanager.eu-west-1.amazonaws.com'),
    );

    // Assess
    expect(viaSecrets).toHaveLength(1);
    expect(viaSecrets[0]?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'] },
      StringLike: { 'kms:EncryptionContext:SecretARN': [SECRET, `${SECRET}-??????`] },
    });
    expect(JSON.stringify(statementsOfRole(plain, 'FunctionsProxyRole'))).not.toContain('secretsmanager');
  });
});
