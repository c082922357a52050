/**
 * `tollgate doctor [--stack NAME] [--json] [--long]`: proves an installation end to end at no provider
 * cost. It registers a temporary echo provider and keys (audited like any change), runs every check, removes
 * what it registered, checks the audit log caught up, and on a stack checks alarms and the dashboard.
 * Exit 0 when every check passes, 1 otherwise.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { API_VERSION } from '#shared/proxy/info.ts';
import { openLocalState, readRuntime } from '../local/state.ts';
import { type Stores, withLocalStores } from './context.ts';
import { auditCheck } from './doctor-audit.ts';
import { alarmsCheck, dashboardCheck } from './doctor-aws.ts';
import {
  answerChecks,
  type CheckContext,
  endpointChecks,
  refusalChecks,
  streamCheck,
} from './doctor-checks.ts';
import { registerFixture } from './doctor-fixture.ts';
import { disabledKeyCheck, rateLimitCheck, spendLimitCheck } from './doctor-limits.ts';
import {
  type CheckResult,
  type DoctorReport,
  fail,
  pass,
  renderReport,
  reportOf,
  skip,
} from './doctor-report.ts';
import { withStackStores } from './stack-target.ts';

/** Where doctor runs: a gateway URL, the stores behind it, and what is known about its configuration. */
export interface DoctorTarget {
  label: string;
  url: string;
  stores: Stores;
  authorizerCacheTtlSeconds: number | undefined;
  /** On a stack: its name, outputs and a CloudWatch client. */
  stack?: { name: string; outputs: Record<string, string>; cloudWatch: CloudWatchClient } | undefined;
}

/** How long doctor waits for what happens after a request, and whether to run the slow check. */
export interface DoctorRun {
  long: boolean;
  /** For the audit pipeline to record doctor's last change. */
  auditWaitMs: number;
  /** For a gateway's provider cache to show the new provider and price. */
  configWaitMs: number;
  /** For CloudWatch to show the requests. */
  metricsWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The defaults of a command-line run. */
export const DEFAULT_RUN: DoctorRun = {
  long: false,
  auditWaitMs: 60_000,
  // The proxy caches provider configuration for TOLLGATE_CREDENTIAL_CACHE_SECONDS (300 s by default).
  configWaitMs: 310_000,
  metricsWaitMs: 180_000,
};

/** Stack outputs doctor reads beyond the ones every command needs. */
const DOCTOR_OUTPUTS = ['ApiUrl', 'DashboardName'] as const;

/** A streamed answer over API Gateway's 29-second integration timeout: 32 events one second apart. */
const LONG_STREAM = { id: 'long-stream', events: 32, gapMs: 1000, minLastMs: 29_500 };

/** Runs every check on a target; never throws for a failure of the target. */
export async function runDoctor(target: DoctorTarget, run: DoctorRun): Promise<DoctorReport> {
  const sleep = run.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = new Date();
  const checks: CheckResult[] = [];
  if (target.stack === undefined) checks.push(skip('outputs', 'local gateway: no stack outputs'));
  else {
    const missing = DOCTOR_OUTPUTS.filter((name) => target.stack?.outputs[name] === undefined);
    checks.push(
      missing.length === 0
        ? pass(
            'outputs',
            `${Object.keys(target.stack.outputs).length} outputs of ${target.stack.name}; API at ${target.url}`,
          )
        : fail('outputs', `missing ${missing.join(', ')}`, 'deploy the current stack (npx cdk deploy)'),
    );
  }
  const fixture = await registerFixture(target.stores);
  const ctx: CheckContext = {
    url: target.url,
    fixture,
    stores: target.stores,
    apiVersion: API_VERSION,
    authorizerCacheTtlSeconds: target.authorizerCacheTtlSeconds,
    configWaitMs: run.configWaitMs,
    sleep,
  };
  try {
    checks.push(...(await endpointChecks(ctx)));
    checks.push(...(await refusalChecks(ctx)));
    checks.push(...(await answerChecks(ctx)));
    checks.push(await streamCheck(ctx, { id: 'stream', events: 6, gapMs: 300 }));
    checks.push(
      run.long
        ? await streamCheck(ctx, LONG_STREAM)
        : skip('long-stream', 'run with --long to stream for 31 s'),
    );
    checks.push(await spendLimitCheck(ctx));
    checks.push(await rateLimitCheck(ctx));
    checks.push(await disabledKeyCheck(ctx));
  } catch (err) {
    checks.push(
      fail('run', `doctor could not go on: ${(err as Error).message}`, 'is the gateway reachable from here?'),
    );
  } finally {
    await fixture.remove();
  }
  checks.push(await auditCheck(fixture.targets, { waitMs: run.auditWaitMs, sleep }));
  if (target.stack === undefined) {
    checks.push(
      skip('alarms', 'local gateway: no CloudWatch'),
      skip('dashboard', 'local gateway: no CloudWatch'),
    );
  } else {
    const { cloudWatch, name, outputs } = target.stack;
    checks.push(await alarmsCheck(cloudWatch, name));
    const dashboardName = outputs.DashboardName;
    checks.push(
      dashboardName === undefined
        ? fail('dashboard', 'no DashboardName output', 'deploy the current stack')
        : await dashboardCheck(cloudWatch, {
            dashboardName,
            since: started,
            waitMs: run.metricsWaitMs,
            sleep,
          }),
    );
  }
  return reportOf(target.label, checks);
}

/** Options of the command. */
export interface DoctorOptions {
  json: boolean;
  long: boolean;
  stack?: string | undefined;
  region?: string | undefined;
}

/** Finds the target, runs doctor, prints the report; returns the exit code. */
export async function doctorCommand(options: DoctorOptions, run: DoctorRun = DEFAULT_RUN): Promise<number> {
  const report =
    options.stack === undefined
      ? await withLocalStores(async (stores) => {
          const runtime = readRuntime(openLocalState());
          if (runtime === undefined)
            throw new Error('no local gateway runs: start it with npm start, or give --stack NAME');
          return runDoctor(
            {
              label: `local gateway ${runtime.gatewayUrl}`,
              url: runtime.gatewayUrl,
              stores,
              authorizerCacheTtlSeconds: runtime.authorizerCacheTtlSeconds,
            },
            { ...run, long: options.long },
          );
        })
      : await withStackStores(options.stack, options.region, async (stores, outputs) => {
          const apiUrl = outputs.ApiUrl;
          if (apiUrl === undefined)
            throw new Error(
              `stack '${options.stack}' has no output ApiUrl: deploy the current Tollgate stack`,
            );
          const cloudWatch = new CloudWatchClient(
            options.region === undefined ? {} : { region: options.region },
          );
          try {
            const ttl = Number(outputs.AuthorizerCacheTtlSeconds);
            return await runDoctor(
              {
                label: `stack ${options.stack}`,
                url: apiUrl.replace(/\/+$/, ''),
                stores,
                authorizerCacheTtlSeconds:
                  Number.isFinite(ttl) && outputs.AuthorizerCacheTtlSeconds !== undefined ? ttl : undefined,
                stack: { name: options.stack ?? '', outputs, cloudWatch },
              },
              { ...run, long: options.long },
            );
          } finally {
            cloudWatch.destroy();
          }
        });
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderReport(report));
  return report.ok ? 0 : 1;
}
