/**
 * `tollgate doctor` against the local gateway on DynamoDB Local: a healthy gateway passes every check, and
 * each class of failure, injected through the local gateway's fault seams (a buffering gateway, a wrong 401
 * body, limits not enforced) or by stopping the audit pipeline, fails exactly the checks that cover it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DoctorRun, type DoctorTarget, runDoctor } from '../../../lib/cli/doctor.ts';
import type { DoctorReport } from '../../../lib/cli/doctor-report.ts';
import type { GatewayFaults, RunningGateway } from '../../../lib/local/gateway.ts';
import type { StreamPoller } from '../../../lib/local/stream-poller.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';
import { runCli } from '../../helpers/run-cli.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let poller: StreamPoller;
/** Doctor's report among the in-process gateway's JSON log lines, which share this process's stdout. */
const reportIn = (stdout: string): DoctorReport => {
  const start = stdout.indexOf('{\n  "target"');
  return JSON.parse(stdout.slice(start, stdout.indexOf('\n}\n', start) + 2)) as DoctorReport;
};

const gateways: RunningGateway[] = [];
const TTL_SECONDS = 300;
const RUN: DoctorRun = { long: false, auditWaitMs: 20_000, configWaitMs: 0, metricsWaitMs: 0 };

async function gateway(faults?: GatewayFaults): Promise<RunningGateway> {
  const { startGateway } = await import('../../../lib/local/gateway.ts');
  const started = await startGateway({
    port: 0,
    authorizerCacheTtlSeconds: TTL_SECONDS,
    ...(faults ? { faults } : {}),
  });
  gateways.push(started);
  return started;
}

const target = (url: string): DoctorTarget => ({
  label: url,
  url,
  stores: env.stores,
  authorizerCacheTtlSeconds: TTL_SECONDS,
});

const failing = (report: DoctorReport): string[] =>
  report.checks.filter((c) => c.status === 'fail').map((c) => c.id);

beforeAll(async () => {
  // The gateway's provider cache would hide doctor's fresh provider for its TTL; tests do not wait it out.
  process.env.TOLLGATE_CREDENTIAL_CACHE_SECONDS = '0';
  const { setupLocalEnv, shareWithCli } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  shareWithCli(env.state, inject('dynamoEndpoint'));
  const { auditPoller } = await import('../../../lib/local/audit-runtime.ts');
  poller = await auditPoller(env.state);
  poller.start();
});

afterAll(async () => {
  await poller?.stop();
  for (const g of gateways) await g.close();
});

describe('tollgate doctor on the local gateway', { timeout: 120_000 }, () => {
  it('passes every check on a healthy gateway, prints one JSON document and exits 0', async () => {
    // Prepare
    const healthy = await gateway();
    const { writeRuntime } = await import('../../../lib/local/state.ts');
    writeRuntime(env.state, {
      pid: process.pid,
      gatewayUrl: healthy.url,
      dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
      startedAt: new Date().toISOString(),
      authorizerCacheTtlSeconds: TTL_SECONDS,
    });

    // Act
    const result = await runCli('doctor', '--json');

    // Assess
    const report = reportIn(result.stdout);
    expect(failing(report)).toEqual([]);
    expect(result.code).toBe(0);
    expect(report.checks.filter((c) => c.status === 'pass').map((c) => c.id)).toEqual([
      'health',
      'openapi',
      'docs',
      'version',
      'refusal-openai',
      'refusal-anthropic',
      'refusal-gemini',
      'answer',
      'answer-anthropic',
      'answer-gemini',
      'stream',
      'limit-402',
      'rate-429',
      'disabled-401',
      'audit',
    ]);
    // Nothing doctor registered stays behind.
    expect((await env.stores.providers.list()).filter((p) => p.provider.startsWith('doctor-'))).toEqual([]);
    expect((await env.stores.keys.list()).filter((k) => k.name.startsWith('doctor-'))).toEqual([]);
  });

  it('catches a gateway that holds stream events back and sends them together', async () => {
    const buffering = await gateway({ bufferStreams: true });
    const report = await runDoctor(target(buffering.url), RUN);
    expect(failing(report)).toEqual(['stream']);
    expect(report.checks.find((c) => c.id === 'stream')?.fix).toMatch(/buffers/);
  });

  it('catches refusals that are not in the documented 401 shape', async () => {
    // The fault bends API Gateway's UNAUTHORIZED response, which only the authorizer's routes (OpenAI)
    // answer with: Anthropic and Gemini keys are refused by the proxy, in the documented shape.
    const wrongShape = await gateway({ denialBody: { message: 'Unauthorized' } });
    const report = await runDoctor(target(wrongShape.url), RUN);
    expect(failing(report)).toEqual(['refusal-openai']);
  });

  it('catches limits that are not enforced', async () => {
    const unlimited = await gateway({ dropLimits: true });
    const report = await runDoctor(target(unlimited.url), RUN);
    expect(failing(report)).toEqual(['limit-402', 'rate-429']);
  });

  it('catches an audit log that does not catch up with doctor’s changes', async () => {
    // Prepare
    await poller.stop();
    const healthy = await gateway();

    // Act
    const report = await runDoctor(target(healthy.url), { ...RUN, auditWaitMs: 1500 });

    // Assess
    expect(failing(report)).toEqual(['audit']);
    expect(report.checks.find((c) => c.id === 'audit')?.figure).toMatch(
      /lacks the removal of providers:doctor-echo-/,
    );
  });
});
