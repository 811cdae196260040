import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, type IMetric, Metric, Stats, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ALERT_CHANNELS,
  CHANNEL_DIMENSION,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  SentinelMetric,
} from '../../functions/deployment-contract.ts';

export interface SentinelDashboardProps {
  readonly fn: IFunction;
  readonly deadLetterQueue: IQueue;
}

const HOUR = Duration.hours(1);

function sentinelMetric(
  metricName: string,
  statistic: string,
  extraDimensions: Record<string, string> = {},
  label?: string,
): IMetric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME, ...extraDimensions },
    statistic,
    period: HOUR,
    label,
  });
}

/** One page that answers "is the sentinel running, and what did it see?". */
export class SentinelDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SentinelDashboardProps) {
    super(scope, id);
    const { fn, deadLetterQueue } = props;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new TextWidget({
            markdown: '# usage-sentinel\nHourly runs, what they evaluated and the alerts they sent.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Successful runs per hour',
            left: [sentinelMetric(SentinelMetric.runSucceeded, Stats.SUM)],
            width: 8,
          }),
          new GraphWidget({
            title: 'Hours and series evaluated',
            left: [
              sentinelMetric(SentinelMetric.hoursEvaluated, Stats.SUM),
              sentinelMetric(SentinelMetric.seriesEvaluated, Stats.SUM),
            ],
            width: 8,
          }),
          new GraphWidget({
            title: 'Alerts sent by channel',
            left: ALERT_CHANNELS.map((channel) =>
              sentinelMetric(SentinelMetric.alertsSent, Stats.SUM, { [CHANNEL_DIMENSION]: channel }, channel),
            ),
            width: 8,
          }),
        ],
        [
          new GraphWidget({
            title: 'Delivery failures and API retries',
            left: [
              sentinelMetric(SentinelMetric.deliveryFailures, Stats.SUM),
              sentinelMetric(SentinelMetric.apiRetries, Stats.SUM),
            ],
            width: 8,
          }),
          new GraphWidget({
            title: 'Run duration (ms)',
            left: [
              sentinelMetric(SentinelMetric.runDurationMs, Stats.AVERAGE, {}, 'average'),
              sentinelMetric(SentinelMetric.runDurationMs, Stats.MAXIMUM, {}, 'maximum'),
            ],
            width: 8,
          }),
          new GraphWidget({
            title: 'Function errors and duration',
            left: [fn.metricErrors({ period: HOUR, statistic: Stats.SUM })],
            right: [fn.metricDuration({ period: HOUR, statistic: Stats.MAXIMUM })],
            width: 8,
          }),
        ],
        [
          new GraphWidget({
            title: 'Dead-letter queue depth',
            left: [
              deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period: Duration.minutes(5),
                statistic: Stats.MAXIMUM,
              }),
            ],
            width: 8,
          }),
        ],
      ],
    });
  }
}
