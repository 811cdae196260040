// An alert as the core produces it, and its record form for `--alerts-out` (../CONTRACT: snake_case).
export type AlertType = 'spike' | 'new_key' | 'reminder' | 'resolved';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface SeriesNames {
  project?: string;
  apiKey?: string;
  /** As the API shows it, e.g. "sk-proj-****abcd"; never a whole key. */
  redactedKey?: string;
}

export interface Alert {
  /** Deterministic: the same series, incident and event always give the same id (dedupe across runs). */
  id: string;
  type: AlertType;
  projectId: string;
  /** null: the project's usage without an API key. */
  apiKeyId: string | null;
  /** The hour (unix seconds) whose usage produced this event. */
  bucketStart: number;
  incidentStart: number;
  metric: 'tokens';
  /** Tokens in the hour and the baseline's expectation for it. */
  observed: number;
  expected: number;
  severity: Severity;
  usdObserved: number;
  usdExpected: number;
  requestsObserved: number;
  requestsExpected: number;
  /** Excess over the baseline since the incident opened, this hour included. */
  excessTokensTotal: number;
  excessUsdTotal: number;
  /** The model with the most tokens this hour. */
  topModel: string | null;
  /** Hours from the incident's first hour to its last abnormal hour (resolved only). */
  durationHours?: number;
  /**
   * Resolved only: the incident outlasted two days and the key is still well above its usual level. It
   * closes because it is taken as the key's new normal (the baseline learns it from then on), not because
   * usage came back down.
   */
  newNormal?: boolean;
  /**
   * Reminder only: the incident rose a severity level this hour, which is what pages it (a reminder at the
   * repeat interval has no flag).
   */
  escalated?: boolean;
  /** Tokens per hour, oldest first, ending with bucketStart: the sparkline. */
  recentTokens: number[];
  names?: SeriesNames;
  /** Recorded but not sent: a mute in the configuration covers it. */
  muted?: boolean;
}

export interface AlertRecord {
  id: string;
  type: AlertType;
  project_id: string;
  api_key_id: string | null;
  bucket_start: number;
  metric: string;
  observed: number;
  expected: number;
  severity: Severity;
  incident_start: number;
  usd_observed: number;
  usd_expected: number;
  excess_tokens_total: number;
  excess_usd_total: number;
  top_model: string | null;
  duration_hours?: number;
  new_normal?: boolean;
  escalated?: boolean;
  muted?: boolean;
}

export function toAlertRecord(a: Alert): AlertRecord {
  return {
    id: a.id,
    type: a.type,
    project_id: a.projectId,
    api_key_id: a.apiKeyId,
    bucket_start: a.bucketStart,
    metric: a.metric,
    observed: a.observed,
    expected: round(a.expected),
    severity: a.severity,
    incident_start: a.incidentStart,
    usd_observed: round(a.usdObserved, 4),
    usd_expected: round(a.usdExpected, 4),
    excess_tokens_total: Math.round(a.excessTokensTotal),
    excess_usd_total: round(a.excessUsdTotal, 4),
    top_model: a.topModel,
    ...(a.durationHours === undefined ? {} : { duration_hours: a.durationHours }),
    ...(a.newNormal ? { new_normal: true } : {}),
    ...(a.escalated ? { escalated: true } : {}),
    ...(a.muted ? { muted: true } : {}),
  };
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
