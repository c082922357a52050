/**
 * `tollgate doctor --stack NAME` against wire-faithful fakes of the AWS APIs it calls (CloudFormation
 * outputs, STS, KMS signing, CloudWatch alarms, dashboard and metric data), with the stack's API served by
 * the local gateway on DynamoDB Local and its audit pipeline signing digests with the (fake) KMS key.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '#shared/env.ts';
import { DEFAULT_RUN, doctorCommand } from '../../../lib/cli/doctor.ts';
import type { DoctorReport } from '../../../lib/cli/doctor-report.ts';
import type { RunningGateway } from '../../../lib/local/gateway.ts';
import type { StreamPoller } from '../../../lib/local/stream-poller.ts';
import { cliOutputs, startFakeCloudFormation } from '../../fakes/cloudformation.ts';
import { type FakeCloudWatchState, metricKey, startFakeCloudWatch } from '../../fakes/cloudwatch.ts';
import { startFakeKms } from '../../fakes/kms.ts';
import { startFakeS3 } from '../../fakes/s3.ts';
import { startFakeSts } from '../../fakes/sts.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';
import { runCli } from '../../helpers/run-cli.ts';

/** Doctor's report among the in-process gateway's JSON log lines, which share this process's stdout. */
const reportIn = (stdout: string): DoctorReport => {
  const start = stdout.indexOf('{\n  "target"');
  return JSON.parse(stdout.slice(start, stdout.indexOf('\n}\n', start) + 2)) as DoctorReport;
};

const CALLER = 'arn:aws:sts::111122223333:assumed-role/TollgateOperators/alice';
const DASHBOARD = 'Tollgate-prod';
const DIGEST_BUCKET = 'tollgate-auditdigestsbucket-1a2b3c';
const API_COUNT = ['AWS/ApiGateway', 'Count', 'ApiName', 'Tollgate', 'Stage', 'prod'] as const;
const closers: Array<() => Promise<void>> = [];
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;
let poller: StreamPoller;
const cloudWatch: FakeCloudWatchState = { alarms: [], dashboards: {}, datapoints: {} };
let cloudWatchCalls: string[];
let aws: Parameters<typeof cliOutputs>[1];

/** The account's metrics show `value` requests at `at` on both request counters the dashboard graphs. */
function requestsAt(at: number, value: number): void {
  cloudWatch.datapoints = {
    [metricKey(API_COUNT[0], API_COUNT[1], [
      { Name: API_COUNT[2], Value: API_COUNT[3] },
      { Name: API_COUNT[4], Value: API_COUNT[5] },
    ])]: [{ at, value }],
    [metricKey('Tollgate', 'Requests')]: [{ at, value }],
  };
}

beforeAll(async () => {
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  const kms = await startFakeKms();
  const sts = await startFakeSts(CALLER);
  const cw = await startFakeCloudWatch(cloudWatch);
  cloudWatchCalls = cw.calls;
  process.env.AWS_ENDPOINT_URL_STS = sts.endpoint;
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cw.endpoint;
  const s3 = await startFakeS3(DIGEST_BUCKET);
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  // The stack's audit function signs digests with its KMS key into its S3 bucket; the local poller stands in.
  process.env.TOLLGATE_AUDIT_SIGNER = `kms:${kms.signingKeyArn}`;
  process.env[ENV.auditDigestStore] = `s3:${DIGEST_BUCKET}`;
  closers.push(s3.close);
  const { startGateway } = await import('../../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
  const { auditPoller } = await import('../../../lib/local/audit-runtime.ts');
  poller = await auditPoller(env.state);
  poller.start();
  aws = { keyArn: kms.keyArn, signingKeyArn: kms.signingKeyArn, digestBucket: DIGEST_BUCKET };
  const cfn = await startFakeCloudFormation({
    Tollgate: {
      ...cliOutputs(env.state.tables, aws),
      ApiUrl: `${gateway.url}/`,
      DashboardName: DASHBOARD,
      AuthorizerCacheTtlSeconds: '300',
    },
  });
  process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cfn.endpoint;
  closers.push(kms.close, sts.close, cw.close, cfn.close);
  cloudWatch.dashboards[DASHBOARD] = JSON.stringify({
    widgets: [
      {
        type: 'metric',
        properties: {
          metrics: [
            [...API_COUNT, { stat: 'Sum' }],
            ['.', '5XXError', '.', '.', '.', '.'],
          ],
        },
      },
      {
        type: 'metric',
        properties: {
          metrics: [
            ['Tollgate', 'Requests', { stat: 'Sum' }],
            ['Tollgate', 'Errors'],
          ],
        },
      },
    ],
  });
});

afterAll(async () => {
  await poller?.stop();
  await gateway?.close();
  for (const close of closers) await close();
});

describe('tollgate doctor --stack', { timeout: 120_000 }, () => {
  it('passes on a healthy stack: outputs, API, audit signed with KMS, alarms quiet, dashboard showing the requests', async () => {
    // Prepare
    cloudWatch.alarms = [
      { name: 'Tollgate-ObservabilityApi5xxRate-1A', state: 'OK' },
      { name: 'Tollgate-ObservabilityAuthorizerErrors-2B', state: 'INSUFFICIENT_DATA' },
      { name: 'Tollgate-ObservabilityProxyErrors-3C', state: 'OK' },
      { name: 'Other-Alarm', state: 'ALARM' },
    ];
    requestsAt(Date.now() + 5_000, 12);

    // Act
    const result = await runCli('doctor', '--stack', 'Tollgate', '--region', 'eu-west-1', '--json');

    // Assess
    const report = reportIn(result.stdout);
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([
      expect.objectContaining({ id: 'long-stream', status: 'skip' }),
    ]);
    expect(result.code).toBe(0);
    expect(report.checks.find((c) => c.id === 'alarms')?.figure).toBe('3 alarms, none in ALARM');
    expect(cloudWatchCalls).toEqual(
      expect.arrayContaining(['DescribeAlarms', 'GetDashboard', 'GetMetricData']),
    );
    const audit = await env.stores.keys.list();
    expect(audit.filter((k) => k.name.startsWith('doctor-'))).toEqual([]);
  });

  it('fails on an alarm in ALARM and on a dashboard without data for the requests just made', async () => {
    // Prepare
    cloudWatch.alarms = [
      { name: 'Tollgate-ObservabilityApi5xxRate-1A', state: 'ALARM' },
      { name: 'Tollgate-ObservabilityProxyErrors-3C', state: 'OK' },
    ];
    requestsAt(Date.now() - 3_600_000, 40);
    let printed = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed += String(chunk);
      return true;
    });

    // Act
    let code: number;
    try {
      code = await doctorCommand(
        { json: true, long: false, stack: 'Tollgate', region: 'eu-west-1' },
        { ...DEFAULT_RUN, metricsWaitMs: 0 },
      );
    } finally {
      out.mockRestore();
    }

    // Assess
    const report = reportIn(printed);
    expect(code).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => [c.id, c.figure])).toEqual([
      ['alarms', '1/2 in ALARM: Tollgate-ObservabilityApi5xxRate-1A'],
      ['dashboard', 'no data after 0 s for AWS/ApiGateway Count, Tollgate Requests'],
    ]);
  });

  it('names the missing outputs of a stack that is not a current Tollgate stack', async () => {
    const old = await startFakeCloudFormation({ Old: cliOutputs(env.state.tables, aws) });
    const previous = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = old.endpoint;
    try {
      const result = await runCli('doctor', '--stack', 'Old');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/no output ApiUrl/);
    } finally {
      process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = previous;
      await old.close();
    }
  });
});
