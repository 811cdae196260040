// What the stack (lib/) and the function agree on: environment variable names, the secrets' placeholder,
// the schedule's event, and the names the function's Powertools Metrics emit and the alarms and dashboard read. Powertools adds the
// `service` dimension (POWERTOOLS_SERVICE_NAME) to every metric, so each metric is keyed by it.
export const SERVICE_NAME = 'usage-sentinel';
export const METRICS_NAMESPACE = 'UsageSentinel';
export const SERVICE_DIMENSION = 'service';

export const SentinelMetric = {
  runSucceeded: 'RunSucceeded',
  hoursEvaluated: 'HoursEvaluated',
  seriesEvaluated: 'SeriesEvaluated',
  alertsSent: 'AlertsSent',
  deliveryFailures: 'DeliveryFailures',
  apiRetries: 'ApiRetries',
  runDurationMs: 'RunDurationMs',
} as const;

/** `AlertsSent` carries this extra dimension, one of ALERT_CHANNELS. */
export const CHANNEL_DIMENSION = 'channel';
export const ALERT_CHANNELS = ['slack', 'email'] as const;

/** Environment variables the stack sets and the handler reads: only names and ARNs, never secrets. */
export const FunctionEnv = {
  stateTableName: 'STATE_TABLE_NAME',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  openAiAdminKeySecretArn: 'OPENAI_ADMIN_KEY_SECRET_ARN',
  slackWebhookSecretArn: 'SLACK_WEBHOOK_SECRET_ARN',
} as const;

/**
 * The validated configuration is compiled into the bundle as this expression (esbuild `define`), not
 * passed as an environment variable: Lambda caps those at 4 KB, and overrides and mutes can exceed it.
 */
export const CONFIG_DEFINE_KEY = 'process.env.USAGE_SENTINEL_CONFIG';

/** What a secret created by the stack holds until the user puts the real value in. */
export const SECRET_PLACEHOLDER = 'REPLACE_ME';

/** The `source` of the schedule's event payload. */
export const SCHEDULE_EVENT_SOURCE = 'usage-sentinel.schedule';
