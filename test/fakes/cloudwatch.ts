/**
 * A fake of CloudWatch's AWS JSON 1.0 wire protocol, as `@aws-sdk/client-cloudwatch` v3 speaks it
 * (`X-Amz-Target: GraniteServiceVersion20100801.*`, `application/x-amz-json-1.0`, query-compatible errors:
 * `__type` in the body plus `x-amzn-query-error: Code;Sender`), with SigV4 required: DescribeAlarms
 * (prefix, pagination), GetDashboard and GetMetricData (epoch-second timestamps, sums per query).
 */
import type { ServerResponse } from 'node:http';
import { listen, readAll } from '../helpers/http.ts';

const PREFIX = 'GraniteServiceVersion20100801.';
const JSON_TYPE = 'application/x-amz-json-1.0';

/** An error as CloudWatch sends it: its HTTP status, error shape, query-compatible code and message. */
interface AwsError {
  status: number;
  shape: string;
  queryCode: string;
  message: string;
}

function awsError(res: ServerResponse, error: AwsError): void {
  const { status, shape, queryCode, message } = error;
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'x-amzn-query-error': `${queryCode};Sender`,
  });
  res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${shape}`, message }));
}

/** What the fake account holds. */
export interface FakeCloudWatchState {
  alarms: Array<{ name: string; state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' }>;
  dashboards: Record<string, string>;
  /** Data points by `namespace/name/dimName=value,…` (dimensions sorted); each value at `at` (ms). */
  datapoints: Record<string, Array<{ at: number; value: number }>>;
}

/** The key a metric's data points are stored under. */
export function metricKey(
  namespace: string,
  name: string,
  dimensions: Array<{ Name?: string; Value?: string }> = [],
): string {
  const dims = dimensions
    .map((d) => `${d.Name}=${d.Value}`)
    .sort()
    .join(',');
  return `${namespace}/${name}/${dims}`;
}

/** Starts the fake; tests change `state` as they go. Records the operations called. */
export async function startFakeCloudWatch(state: FakeCloudWatchState) {
  const calls: string[] = [];
  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return awsError(res, {
        status: 403,
        shape: 'MissingAuthenticationToken',
        queryCode: 'MissingAuthenticationToken',
        message: 'Missing Authentication Token',
      });
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!target.startsWith(PREFIX) || !String(req.headers['content-type'] ?? '').startsWith(JSON_TYPE))
      return awsError(res, {
        status: 400,
        shape: 'UnknownOperationException',
        queryCode: 'InvalidAction',
        message: 'Could not find operation',
      });
    const operation = target.slice(PREFIX.length);
    calls.push(operation);
    const input = JSON.parse(body === '' ? '{}' : body) as Record<string, unknown>;
    const ok = (out: unknown): void => {
      res.writeHead(200, { 'content-type': JSON_TYPE });
      res.end(JSON.stringify(out));
    };
    if (operation === 'DescribeAlarms') {
      const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : '';
      const matching = state.alarms.filter((a) => a.name.startsWith(prefix));
      // Pages of two, so callers must follow NextToken.
      const start = Number(input.NextToken ?? 0);
      const page = matching.slice(start, start + 2);
      return ok({
        MetricAlarms: page.map((a) => ({
          AlarmName: a.name,
          AlarmArn: `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${a.name}`,
          StateValue: a.state,
          StateReason: 'fake',
          StateUpdatedTimestamp: 1_763_856_000,
        })),
        CompositeAlarms: [],
        ...(start + 2 < matching.length ? { NextToken: String(start + 2) } : {}),
      });
    }
    if (operation === 'GetDashboard') {
      const name = String(input.DashboardName ?? '');
      const dashboard = state.dashboards[name];
      if (dashboard === undefined)
        return awsError(res, {
          status: 404,
          shape: 'DashboardNotFoundError',
          queryCode: 'ResourceNotFound',
          message: `Dashboard ${name} does not exist`,
        });
      return ok({
        DashboardArn: `arn:aws:cloudwatch::111122223333:dashboard/${name}`,
        DashboardName: name,
        DashboardBody: dashboard,
      });
    }
    if (operation === 'GetMetricData') {
      const start = Number(input.StartTime) * 1000;
      const end = Number(input.EndTime) * 1000;
      if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end)
        return awsError(res, {
          status: 400,
          shape: 'InvalidParameterValueException',
          queryCode: 'InvalidParameterValue',
          message: 'The parameter StartTime must be less than the parameter EndTime.',
        });
      const queries = (input.MetricDataQueries ?? []) as Array<{
        Id: string;
        Label?: string;
        MetricStat?: {
          Metric: {
            Namespace: string;
            MetricName: string;
            Dimensions?: Array<{ Name: string; Value: string }>;
          };
        };
      }>;
      return ok({
        MetricDataResults: queries.map((q) => {
          const metric = q.MetricStat?.Metric;
          const points = (
            metric === undefined
              ? []
              : (state.datapoints[metricKey(metric.Namespace, metric.MetricName, metric.Dimensions)] ?? [])
          ).filter((p) => p.at >= start && p.at < end);
          return {
            Id: q.Id,
            Label: q.Label ?? metric?.MetricName,
            Timestamps: points.map((p) => Math.floor(p.at / 1000)),
            Values: points.map((p) => p.value),
            StatusCode: 'Complete',
          };
        }),
        Messages: [],
      });
    }
    awsError(res, {
      status: 400,
      shape: 'UnknownOperationException',
      queryCode: 'InvalidAction',
      message: `Could not find operation ${operation}`,
    });
  });
  return { endpoint: `http://127.0.0.1:${port}`, calls, close };
}
