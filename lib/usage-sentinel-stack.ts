import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SentinelConfig } from '../functions/config/config-schema.ts';
import {
  CONFIG_DEFINE_KEY,
  FunctionEnv,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../functions/deployment-contract.ts';
import { AlertTopic } from './constructs/alert-topic.ts';
import { FailedInvocationsQueue } from './constructs/failed-invocations-queue.ts';
import { HourlySchedule } from './constructs/hourly-schedule.ts';
import { SentinelAlarms } from './constructs/sentinel-alarms.ts';
import { SentinelDashboard } from './constructs/sentinel-dashboard.ts';
import { SentinelFunction } from './constructs/sentinel-function.ts';
import { SentinelSecrets } from './constructs/sentinel-secrets.ts';
import { StateTable } from './constructs/state-table.ts';

export { CONFIG_DEFINE_KEY, FunctionEnv };

/** The repository root: the function's entry and the lock file esbuild resolves against live there. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** Names of the environment variables the function reads. */
export interface UsageSentinelStackProps extends StackProps {
  /** Validated once in bin/app.ts. */
  readonly config: SentinelConfig;
  /** The function's entry file; tests swap in their own. Default: functions/handler.ts. */
  readonly functionEntry?: string | undefined;
}

/** Scheduler -> Lambda -> (OpenAI usage API, DynamoDB state) -> SNS and Slack, with alarms on itself. */
export class UsageSentinelStack extends Stack {
  readonly stateTable: StateTable;
  readonly alertTopic: AlertTopic;
  readonly secrets: SentinelSecrets;
  readonly failedInvocations: FailedInvocationsQueue;
  readonly sentinelFunction: SentinelFunction;
  readonly schedule: HourlySchedule;
  readonly alarms: SentinelAlarms;
  readonly dashboard: SentinelDashboard;

  constructor(scope: Construct, id: string, props: UsageSentinelStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.stateTable = new StateTable(this, 'State');
    this.alertTopic = new AlertTopic(this, 'Alerts', { emails: config.notifications.emails });
    this.secrets = new SentinelSecrets(this, 'Secrets', {
      openAiAdminKeyArn: config.secrets.openAiAdminKeyArn,
      slackWebhookArn: config.secrets.slackWebhookArn,
      projectSlackWebhookArns: config.secrets.projectSlackWebhookArns,
    });
    this.failedInvocations = new FailedInvocationsQueue(this, 'FailedInvocations');
    const deadLetterQueue = this.failedInvocations.queue;

    const table = this.stateTable.table;
    const topic = this.alertTopic.topic;
    const { openAiAdminKey, slackWebhook } = this.secrets;
    this.sentinelFunction = new SentinelFunction(this, 'Sentinel', {
      entry: props.functionEntry ?? `${PROJECT_ROOT}/functions/handler.ts`,
      projectRoot: PROJECT_ROOT,
      description: 'Evaluates closed hours of OpenAI usage and alerts on spikes',
      environment: {
        [FunctionEnv.stateTableName]: table.tableName,
        [FunctionEnv.alertTopicArn]: topic.topicArn,
        // ARNs only: the function fetches the values at run time.
        [FunctionEnv.openAiAdminKeySecretArn]: openAiAdminKey.secretArn,
        [FunctionEnv.slackWebhookSecretArn]: slackWebhook.secretArn,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      define: { [CONFIG_DEFINE_KEY]: JSON.stringify(JSON.stringify(config)) },
      deadLetterQueue,
    });
    const fn = this.sentinelFunction.fn;
    table.grantReadWriteData(fn);
    topic.grantPublish(fn);
    Validations.of(this.sentinelFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Written by topic.grantPublish for the alert topic's own key only: SNS needs GenerateDataKey to " +
        'encrypt what the function publishes.',
    });
    openAiAdminKey.grantRead(fn);
    slackWebhook.grantRead(fn);
    for (const secret of this.secrets.projectSlackWebhooks) secret.grantRead(fn);

    this.schedule = new HourlySchedule(this, 'Hourly', {
      minute: config.schedule.minute,
      target: fn,
      deadLetterQueue,
    });
    this.alarms = new SentinelAlarms(this, 'Alarms', { fn, deadLetterQueue, topic });
    this.dashboard = new SentinelDashboard(this, 'Dashboard', { fn, deadLetterQueue });

    new CfnOutput(this, 'OpenAiAdminKeySecretArn', {
      description: 'Store the OpenAI admin key here: aws secretsmanager put-secret-value --secret-id <arn>',
      value: openAiAdminKey.secretArn,
    });
    new CfnOutput(this, 'SlackWebhookSecretArn', {
      description: 'Store the Slack incoming-webhook URL here (optional)',
      value: slackWebhook.secretArn,
    });
    new CfnOutput(this, 'AlertTopicArn', { value: topic.topicArn });
    new CfnOutput(this, 'StateTableName', { value: table.tableName });
    new CfnOutput(this, 'FunctionName', { value: fn.functionName });
  }
}
