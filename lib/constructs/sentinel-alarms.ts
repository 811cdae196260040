import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  SentinelMetric,
} from '../../functions/deployment-contract.ts';

export interface SentinelAlarmsProps {
  readonly fn: IFunction;
  readonly deadLetterQueue: IQueue;
  /** Receives both the ALARM and the OK transition, so a silent sentinel never goes unnoticed. */
  readonly topic: ITopic;
}

/** Alarms on the sentinel itself: it failed, it dropped a run, it stopped succeeding, or a channel stopped delivering. */
export class SentinelAlarms extends Construct {
  readonly functionErrors: Alarm;
  readonly failedInvocations: Alarm;
  readonly noSuccessfulRun: Alarm;
  readonly deliveryFailing: Alarm;

  constructor(scope: Construct, id: string, props: SentinelAlarmsProps) {
    super(scope, id);
    this.functionErrors = new Alarm(this, 'FunctionErrors', {
      alarmDescription: 'usage-sentinel: the function failed at least once in the last hour (see its logs).',
      metric: props.fn.metricErrors({ period: Duration.hours(1), statistic: Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.failedInvocations = new Alarm(this, 'FailedInvocations', {
      alarmDescription:
        'usage-sentinel: an hourly invocation landed in the dead-letter queue; later runs catch up on the hours.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.noSuccessfulRun = new Alarm(this, 'NoSuccessfulRun', {
      alarmDescription:
        'usage-sentinel: no successful run for two hours, so usage is not being watched (check the admin key secret).',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: SentinelMetric.runSucceeded,
        dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME },
        statistic: Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data point means no run reported success: that is the failure this alarm exists for.
      treatMissingData: TreatMissingData.BREACHING,
    });

    // A revoked Slack webhook leaves runs successful while nobody sees the alerts there: three hours
    // in a row of failed deliveries is not a blip. Email carries this alarm even when Slack is down.
    this.deliveryFailing = new Alarm(this, 'DeliveryFailing', {
      alarmDescription:
        'usage-sentinel: alerts failed to deliver for three hours in a row (Slack webhook revoked, or SNS refusing).',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: SentinelMetric.deliveryFailures,
        dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME },
        statistic: Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const action: IAlarmAction = new SnsAction(props.topic);
    for (const alarm of [
      this.functionErrors,
      this.failedInvocations,
      this.noSuccessfulRun,
      this.deliveryFailing,
    ]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
