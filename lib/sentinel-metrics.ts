// Names the function's Powertools Metrics emit and the alarms and dashboard read. Powertools adds the
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
