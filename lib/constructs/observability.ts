/**
 * What an operator watches: a CloudWatch dashboard of the API, the functions and Tollgate's own EMF
 * metrics, and alarms on the 5xx rate, authorizer errors, throttles, function errors and the audit
 * failure queue — sent to an SNS topic when an alarm e-mail is configured.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  type Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#shared/metrics.ts';

/**
 * The dimension set (sorted as Powertools writes it) of every metric `#shared/metrics.ts` emits. The
 * infrastructure test derives the sets from the metrics code itself and holds this table, every widget and
 * every alarm to them.
 */
export const EMITTED_DIMENSIONS = {
  Requests: ['service', 'route'],
  Errors: ['service', 'route'],
  ErrorsByCode: ['service', 'code'],
  InputTokens: ['service', 'provider', 'model'],
  OutputTokens: ['service', 'provider', 'model'],
  CostMicroUSD: ['service', 'provider', 'model'],
  TimeToFirstByte: ['service', 'provider', 'model'],
  UpstreamLatency: ['service', 'provider', 'model'],
  SettlementFailures: ['service'],
} as const satisfies Record<string, readonly string[]>;

/** A metric Tollgate's code emits. */
export type EmittedMetric = keyof typeof EMITTED_DIMENSIONS;

/** Props of {@link TollgateObservability}. */
export interface TollgateObservabilityProps {
  readonly api: RestApi;
  readonly stageName: string;
  readonly authorizer: NodejsFunction;
  readonly proxy: NodejsFunction;
  readonly audit: NodejsFunction;
  readonly auditAlarms: readonly Alarm[];
  /** Where alarms are sent, when set. */
  readonly alarmEmail?: string | undefined;
}

export class TollgateObservability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[];
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: TollgateObservabilityProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const api = (metricName: string, statistic = 'Sum') =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        statistic,
        period,
        dimensionsMap: { ApiName: props.api.restApiName, Stage: props.stageName },
      });
    // Tollgate's EMF metrics always carry dimensions (Powertools adds `service`); a metric without them
    // is a different metric that has no data. SEARCH on the exact dimension set the code emits finds them.
    const search = (metricName: EmittedMetric, statistic: string) =>
      `SEARCH('{${METRICS_NAMESPACE},${EMITTED_DIMENSIONS[metricName].join(',')}} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`;
    const total = (metricName: EmittedMetric) =>
      new MathExpression({ expression: `SUM(${search(metricName, 'Sum')})`, label: metricName, period });
    const perSeries = (metricName: EmittedMetric, statistic: string) =>
      new MathExpression({
        expression: search(metricName, statistic),
        label: `${metricName} ${statistic}`,
        period,
      });
    const functions = { authorizer: props.authorizer, proxy: props.proxy, audit: props.audit };

    const fiveXxRate = new MathExpression({
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: { errors: api('5XXError'), requests: api('Count') },
      period,
      label: '5xx %',
    });
    this.alarms = [
      fiveXxRate.createAlarm(this, 'Api5xxRate', {
        alarmDescription: 'More than 5% of requests answered 5xx over 5 minutes.',
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      props.authorizer.metricErrors({ period }).createAlarm(this, 'AuthorizerErrors', {
        alarmDescription: 'The key authorizer failed (clients see 500s).',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new MathExpression({
        expression: 'authorizer + proxy + audit',
        usingMetrics: {
          authorizer: props.authorizer.metricThrottles({ period }),
          proxy: props.proxy.metricThrottles({ period }),
          audit: props.audit.metricThrottles({ period }),
        },
        period,
        label: 'throttles',
      }).createAlarm(this, 'Throttles', {
        alarmDescription: 'Lambda throttled Tollgate functions: raise concurrency or lower stage throttling.',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      ...(['proxy', 'audit'] as const).map((name) =>
        functions[name]
          .metricErrors({ period })
          .createAlarm(this, `${name === 'proxy' ? 'Proxy' : 'Audit'}Errors`, {
            alarmDescription: `The ${name} function failed.`,
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      ),
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'SettlementFailures',
        statistic: 'Sum',
        period,
        dimensionsMap: { service: 'tollgate' },
      }).createAlarm(this, 'SettlementFailures', {
        alarmDescription:
          'A request could not be settled after its retries: its reservation is billed at the estimate when it ' +
          'expires, and its cost is in the error log line (`settlement failed`).',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      ...props.auditAlarms,
    ];

    if (props.alarmEmail !== undefined) {
      this.topic = new Topic(this, 'Alarms', { displayName: 'Tollgate alarms', enforceSSL: true });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no secret; SSE would need a CMK policy for CloudWatch for no gain.',
      });
      for (const alarm of this.alarms) alarm.addAlarmAction(new SnsAction(this.topic));
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      // The API is named after the stack, so the dashboard is unique per account and region too.
      dashboardName: `${props.api.restApiName}-${props.stageName}`,
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [api('Count'), api('4XXError'), api('5XXError')],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency',
        left: [api('Latency', 'p50'), api('Latency', 'p99'), api('IntegrationLatency', 'p99')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Gateway requests and errors (Tollgate)',
        left: [total('Requests'), total('Errors')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Time to first byte (Tollgate)',
        left: [perSeries('TimeToFirstByte', 'p50'), perSeries('TimeToFirstByte', 'p99')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Tokens',
        left: [total('InputTokens'), total('OutputTokens')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Cost (micro-USD) by model',
        left: [perSeries('CostMicroUSD', 'Sum')],
        width: 12,
      }),
      new GraphWidget({ title: 'Errors by code', left: [perSeries('ErrorsByCode', 'Sum')], width: 12 }),
      new GraphWidget({
        title: 'Function errors and throttles',
        left: Object.values(functions).flatMap((fn) => [
          fn.metricErrors({ period }),
          fn.metricThrottles({ period }),
        ]),
        width: 24,
      }),
    );
  }
}
