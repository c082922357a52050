/**
 * Doctor's checks of a deployed stack's CloudWatch side: its alarms exist and none is in ALARM, and the
 * dashboard's request counters have data points for the requests doctor just made (CloudWatch takes a
 * minute or two to show them, so this waits within a bound).
 */
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { type CheckResult, fail, pass } from './doctor-report.ts';

/** Alarms whose names start with the stack's name (CloudFormation names them so). */
export async function alarmsCheck(client: CloudWatchClient, stackName: string): Promise<CheckResult> {
  const alarms: Array<{ name: string; state: string }> = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: `${stackName}-`, NextToken: token }),
    );
    for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])])
      alarms.push({ name: a.AlarmName ?? '?', state: a.StateValue ?? '?' });
    token = page.NextToken;
  } while (token !== undefined);
  const firing = alarms.filter((a) => a.state === 'ALARM');
  if (alarms.length === 0)
    return fail('alarms', `no alarm named ${stackName}-…`, 'deploy the current stack: it creates the alarms');
  if (firing.length > 0) {
    return fail(
      'alarms',
      `${firing.length}/${alarms.length} in ALARM: ${firing.map((a) => a.name).join(', ')}`,
      "open each alarm in the CloudWatch console; the README's Troubleshooting section says what each means",
    );
  }
  return pass('alarms', `${alarms.length} alarms, none in ALARM`);
}

/** A metric of a dashboard widget: namespace, name and dimension pairs, with the stat. */
interface DashboardMetric {
  namespace: string;
  name: string;
  dimensions: Array<{ Name: string; Value: string }>;
  stat: string;
}

/** The metrics a dashboard body graphs, in CloudWatch's `[ns, name, dim, value, …, {options}]` form. */
export function dashboardMetrics(body: string): DashboardMetric[] {
  const parsed = JSON.parse(body) as { widgets?: Array<{ properties?: { metrics?: unknown[] } }> };
  const out: DashboardMetric[] = [];
  let previous: string[] = [];
  for (const widget of parsed.widgets ?? []) {
    for (const row of widget.properties?.metrics ?? []) {
      if (!Array.isArray(row)) continue;
      const options = (typeof row.at(-1) === 'object' ? row.at(-1) : {}) as {
        stat?: string;
        expression?: string;
      };
      const plain = row.filter((v): v is string => typeof v === 'string');
      if (options.expression !== undefined) continue;
      // '...' and '.' repeat the previous row's fields.
      const fields = plain.map((v, i) => (v === '.' ? (previous[i] ?? v) : v));
      previous = fields;
      const [namespace, name, ...rest] = fields;
      if (namespace === undefined || name === undefined) continue;
      const dimensions: Array<{ Name: string; Value: string }> = [];
      for (let i = 0; i + 1 < rest.length; i += 2)
        dimensions.push({ Name: rest[i] ?? '', Value: rest[i + 1] ?? '' });
      out.push({ namespace, name, dimensions, stat: options.stat ?? 'Sum' });
    }
  }
  return out;
}

/** Request counters of the dashboard (`Count`, `Requests`) have data since `since`. */
export async function dashboardCheck(
  client: CloudWatchClient,
  options: { dashboardName: string; since: Date; waitMs: number; sleep: (ms: number) => Promise<void> },
): Promise<CheckResult> {
  const dashboard = await client.send(new GetDashboardCommand({ DashboardName: options.dashboardName }));
  const counters = dashboardMetrics(dashboard.DashboardBody ?? '{}').filter(
    (m) => m.name === 'Count' || m.name === 'Requests',
  );
  if (counters.length === 0)
    return fail(
      'dashboard',
      `dashboard ${options.dashboardName} graphs no request counter`,
      'deploy the current stack',
    );
  const queries: MetricDataQuery[] = counters.map((m, i) => ({
    Id: `m${i}`,
    Label: `${m.namespace} ${m.name}`,
    MetricStat: {
      Metric: { Namespace: m.namespace, MetricName: m.name, Dimensions: m.dimensions },
      Period: 60,
      Stat: 'Sum',
    },
  }));
  const started = Date.now();
  let empty: string[] = [];
  for (;;) {
    const data = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(options.since.getTime() - 60_000),
        EndTime: new Date(Date.now() + 60_000),
      }),
    );
    const sums = new Map(
      (data.MetricDataResults ?? []).map((r) => [r.Id, (r.Values ?? []).reduce((a, b) => a + b, 0)]),
    );
    empty = queries.filter((q) => (sums.get(q.Id) ?? 0) === 0).map((q) => q.Label ?? q.Id ?? '?');
    if (empty.length === 0 || Date.now() - started >= options.waitMs) break;
    await options.sleep(15_000);
  }
  const waited = Math.round((Date.now() - started) / 1000);
  return empty.length === 0
    ? pass(
        'dashboard',
        `${counters.length} request counters of ${options.dashboardName} show doctor's requests (after ${waited} s)`,
      )
    : fail(
        'dashboard',
        `no data after ${waited} s for ${empty.join(', ')}`,
        "the dashboard graphs a metric nothing publishes (check its dimensions against the EMF lines in the proxy's logs), or metrics are delayed: run doctor again in five minutes",
      );
}
