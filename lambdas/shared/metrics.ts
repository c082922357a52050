/**
 * CloudWatch metrics in embedded metric format (Powertools Metrics): one EMF line per request, written to
 * stdout, so metrics cost no API call on the request path. Namespace `Tollgate`.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'Tollgate';

/** What is measured about one request. */
export interface RequestMetrics {
  route: string;
  status: number;
  /** The Tollgate error code, for errors. */
  code?: string | undefined;
}

/** What is measured about one upstream answer. */
export interface UpstreamMetrics {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  ttfbMs?: number | undefined;
  upstreamMs?: number | undefined;
}

/** Where the proxy reports metrics; the Lambda uses EMF, tests may use anything. */
export interface MetricsSink {
  request(m: RequestMetrics): void;
  upstream(m: UpstreamMetrics): void;
  /** A settlement that failed after its retries (its reservations are reconciled when they expire). */
  settlementFailed?(): void;
}

let shared: Metrics | undefined;

// One instance for the process, made at the first publication: building one reads its whole environment
// configuration, about 0.1 ms a time here, twice a request. Sharing it is safe because each publication
// adds its dimensions and metrics and publishes them without awaiting, so no other request's can come in
// between, and publishing clears them.
const emf = (dimensions: Record<string, string>): Metrics => {
  shared ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'tollgate' });
  // What a publication that threw midway left behind must not go out with this one.
  shared.clearDimensions();
  shared.clearMetrics();
  shared.addDimensions(dimensions);
  return shared;
};

/** The EMF sink. */
export const emfMetrics: MetricsSink = {
  request(m) {
    const metrics = emf({ route: m.route });
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    if (m.status >= 400) metrics.addMetric('Errors', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    if (m.code !== undefined) {
      const byCode = emf({ code: m.code });
      byCode.addMetric('ErrorsByCode', MetricUnit.Count, 1);
      byCode.publishStoredMetrics();
    }
  },
  upstream(m) {
    const metrics = emf({ provider: m.provider, model: `${m.provider}/${m.model}` });
    metrics.addMetric('InputTokens', MetricUnit.Count, m.inputTokens);
    metrics.addMetric('OutputTokens', MetricUnit.Count, m.outputTokens);
    metrics.addMetric('CostMicroUSD', MetricUnit.Count, m.costMicros);
    if (m.ttfbMs !== undefined) metrics.addMetric('TimeToFirstByte', MetricUnit.Milliseconds, m.ttfbMs);
    if (m.upstreamMs !== undefined)
      metrics.addMetric('UpstreamLatency', MetricUnit.Milliseconds, m.upstreamMs);
    metrics.publishStoredMetrics();
  },
  settlementFailed() {
    // Powertools' own `service` dimension only: one series, which an alarm can name exactly.
    const metrics = emf({});
    metrics.addMetric('SettlementFailures', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  },
};
