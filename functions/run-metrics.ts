// A run's figures as CloudWatch metrics (EMF through Powertools). RunSucceeded is the heartbeat the
// "no successful run for two hours" alarm watches: it is emitted only when every pending hour was
// evaluated and delivery worked.
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunReport } from './core/run-scheduled-evaluation.ts';
import { ALERT_CHANNELS, CHANNEL_DIMENSION, SentinelMetric } from './deployment-contract.ts';
import type { DeliveryResult } from './notify/deliver-alerts.ts';

export interface RunFigures {
  report: RunReport;
  delivery: DeliveryResult | undefined;
  apiRetries: number;
  durationMs: number;
}

export function publishRunMetrics(metrics: Metrics, figures: RunFigures): void {
  const { report, delivery } = figures;
  const succeeded = report.outcome === 'completed' || report.outcome === 'skipped';
  metrics.addMetric(SentinelMetric.runSucceeded, MetricUnit.Count, succeeded ? 1 : 0);
  metrics.addMetric(SentinelMetric.hoursEvaluated, MetricUnit.Count, report.hoursEvaluated);
  metrics.addMetric(SentinelMetric.seriesEvaluated, MetricUnit.Count, report.seriesEvaluated);
  metrics.addMetric(SentinelMetric.apiRetries, MetricUnit.Count, figures.apiRetries);
  metrics.addMetric(SentinelMetric.runDurationMs, MetricUnit.Milliseconds, figures.durationMs);
  const failures = delivery ? ALERT_CHANNELS.reduce((sum, channel) => sum + delivery.failed[channel], 0) : 0;
  metrics.addMetric(SentinelMetric.deliveryFailures, MetricUnit.Count, failures);
  metrics.publishStoredMetrics();
  for (const channel of ALERT_CHANNELS) {
    const single = metrics.singleMetric();
    single.addDimension(CHANNEL_DIMENSION, channel);
    single.addMetric(SentinelMetric.alertsSent, MetricUnit.Count, delivery?.sent[channel] ?? 0);
  }
}
