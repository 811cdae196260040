// The facts every alert message states, worked out once so Slack and email say the same thing.
// Rendering (mrkdwn, plain text) lives in slack-message.ts and email-message.ts.
import type { Alert, AlertType, Severity } from '../core/alert.ts';
import { HOUR_SECONDS } from '../core/usage.ts';

export const OPENAI_USAGE_URL = 'https://platform.openai.com/usage';
export const OPENAI_API_KEYS_URL = 'https://platform.openai.com/api-keys';
/** The organization's project list; OpenAI has no documented deep link to one project's page. */
export const OPENAI_PROJECTS_URL = 'https://platform.openai.com/settings/organization/projects';

export interface MessageOptions {
  /** IANA time zone shown beside UTC (configuration `notifications.timeZone`). */
  timeZone: string;
  /** A link to the project's own page, when a deployment knows one. */
  projectUrl?: (projectId: string) => string | undefined;
}

export interface AlertFacts {
  type: AlertType;
  severity: Severity;
  /** "Prod (proj_abc)" or "proj_abc". */
  projectLabel: string;
  /** "batch-worker sk-proj-****abcd (key_123)", or "usage without an API key". */
  keyLabel: string;
  /** Short form for headlines: the key's name, its redacted value, or its id. */
  keyShort: string;
  projectShort: string;
  /** "12.4× normal", or "new usage" when nothing was expected. */
  ratioText: string;
  /** The same with an ASCII "x", for email subjects. */
  ratioAscii: string;
  tokensLine: string;
  costLine: string;
  excessLine: string;
  /** Why the tokens rose: more requests or bigger ones; undefined when the numbers cannot tell. */
  driverLine: string | undefined;
  modelLine: string | undefined;
  whenLine: string;
  sparkline: string | undefined;
  durationText: string | undefined;
  /** A recovery notice of an incident taken as the key's new level (see Alert.newNormal). */
  newNormal: boolean;
  /** A reminder sent because the incident rose a severity level (see Alert.escalated). */
  escalated: boolean;
  idsLine: string;
  links: { label: string; url: string }[];
  nextSteps: string[];
}

export function alertFacts(alert: Alert, options: MessageOptions): AlertFacts {
  // Names come from the API: no control characters (a newline could forge lines of the message).
  const raw = alert.names ?? {};
  const names = {
    project: oneLine(raw.project),
    apiKey: oneLine(raw.apiKey),
    redactedKey: oneLine(raw.redactedKey),
  };
  const projectShort = names.project ?? alert.projectId;
  const projectLabel = names.project ? `${names.project} (${alert.projectId})` : alert.projectId;
  const keyShort =
    alert.apiKeyId === null ? 'keyless usage' : (names.apiKey ?? names.redactedKey ?? alert.apiKeyId);
  const keyLabel =
    alert.apiKeyId === null
      ? 'usage without an API key (playground or session)'
      : [names.apiKey, names.redactedKey, `(${alert.apiKeyId})`].filter(Boolean).join(' ');
  const ratio = alert.expected > 0 ? alert.observed / alert.expected : undefined;
  const ratioNumber = ratio === undefined ? undefined : formatRatio(ratio);
  const excessHour = Math.max(0, alert.observed - alert.expected);
  const excessUsdHour = Math.max(0, alert.usdObserved - alert.usdExpected);
  const projectUrl = options.projectUrl?.(alert.projectId);
  return {
    type: alert.type,
    severity: alert.severity,
    projectLabel,
    projectShort,
    keyLabel,
    keyShort,
    ratioText: ratioNumber === undefined ? 'new usage' : `${ratioNumber}× normal`,
    ratioAscii: ratioNumber === undefined ? 'new usage' : `${ratioNumber}x normal`,
    tokensLine:
      `${formatTokens(alert.observed)} tokens in the hour vs ~${formatTokens(alert.expected)} expected` +
      (excessHour > 0 ? ` (+${formatTokens(excessHour)})` : ''),
    costLine:
      `~${formatUsd(alert.usdObserved)} this hour vs ~${formatUsd(alert.usdExpected)} normal` +
      (excessUsdHour > 0 ? ` (+${formatUsd(excessUsdHour)})` : ''),
    excessLine: `${formatTokens(alert.excessTokensTotal)} tokens (~${formatUsd(alert.excessUsdTotal)}) over normal since ${formatUtc(alert.incidentStart)}`,
    driverLine: driverLine(alert),
    modelLine: alert.topModel ? alert.topModel : undefined,
    whenLine: hourRange(alert.bucketStart, options.timeZone),
    sparkline: alert.recentTokens.length > 1 ? sparkline(alert.recentTokens) : undefined,
    durationText: alert.durationHours === undefined ? undefined : formatHours(alert.durationHours),
    newNormal: alert.newNormal === true,
    escalated: alert.escalated === true,
    idsLine: `alert ${alert.id} · project ${alert.projectId} · key ${alert.apiKeyId ?? 'none'} · severity ${alert.severity}`,
    links: [
      { label: 'Usage dashboard', url: OPENAI_USAGE_URL },
      { label: 'API keys', url: OPENAI_API_KEYS_URL },
      { label: 'Projects', url: projectUrl ?? OPENAI_PROJECTS_URL },
    ],
    nextSteps: nextSteps(alert),
  };
}

const oneLine = (s: string | undefined): string | undefined =>
  s === undefined || s.trim() === '' ? undefined : s.replace(/\p{Cc}/gu, ' ').trim();

/** Tokens per request against normal says whether a loop (more calls) or bloat (bigger calls) drove it. */
function driverLine(alert: Alert): string | undefined {
  const { observed, expected, requestsObserved, requestsExpected } = alert;
  if (requestsObserved <= 0) return undefined;
  const perRequest = observed / requestsObserved;
  if (requestsExpected <= 0 || expected <= 0) {
    return `${formatCount(requestsObserved)} requests, ${formatTokens(perRequest)} tokens per request`;
  }
  const perRequestExpected = expected / requestsExpected;
  const requestRatio = requestsObserved / requestsExpected;
  const sizeRatio = perRequestExpected > 0 ? perRequest / perRequestExpected : 1;
  const cause =
    requestRatio >= sizeRatio
      ? 'mostly more requests (runaway loop?)'
      : 'mostly bigger requests (prompt bloat?)';
  return (
    `${formatCount(requestsObserved)} requests vs ~${formatCount(requestsExpected)} normal; ` +
    `${formatTokens(perRequest)} tokens per request vs ~${formatTokens(perRequestExpected)} normal: ${cause}`
  );
}

function nextSteps(alert: Alert): string[] {
  if (alert.type === 'resolved' && alert.newNormal) {
    return [
      "Usage did not come back down: an incident open for two days is taken as the key's new level, and the baseline learns it from now on.",
      'If that level is not expected, the key is still spending more than before: find what changed, and rotate the key if the use is not yours.',
    ];
  }
  if (alert.type === 'resolved') {
    return [
      'Back within its baseline; nothing to do if the spike was yours.',
      'If it was not (a leaked key), rotate the key now: the same usage at the same hours tomorrow or next week may pass for a recurring job and page no one.',
    ];
  }
  return [
    'Check the usage dashboard for this key and model: is a job looping or a prompt growing?',
    'If the use is not yours (a leaked key), revoke or rotate the key on the API keys page.',
    'If it is expected, mute it with a `mutes` entry (projectId/apiKeyId, until) in the configuration.',
  ];
}

const SPARK = '▁▂▃▄▅▆▇█';

/** Unicode block sparkline, scaled from zero so a flat series reads flat and a spike stands out. */
export function sparkline(values: readonly number[]): string {
  const finite = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const max = Math.max(0, ...finite);
  if (max === 0) return SPARK[0]?.repeat(finite.length) ?? '';
  return finite.map((v) => SPARK[Math.min(7, Math.round((v / max) * 7))]).join('');
}

export function formatRatio(ratio: number): string {
  if (ratio >= 100) return String(Math.round(ratio));
  return (Math.round(ratio * 10) / 10).toFixed(1);
}

/** 1234 -> "1,234"; 2_300_000 -> "2.3M". */
export function formatTokens(n: number): string {
  const x = Math.round(n);
  if (Math.abs(x) >= 10_000_000_000) return `${(x / 1e9).toFixed(0)}B`;
  if (Math.abs(x) >= 1_000_000_000) return `${(x / 1e9).toFixed(1)}B`;
  if (Math.abs(x) >= 10_000_000) return `${(x / 1e6).toFixed(0)}M`;
  if (Math.abs(x) >= 1_000_000) return `${(x / 1e6).toFixed(1)}M`;
  return x.toLocaleString('en-US');
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatUsd(usd: number): string {
  if (usd >= 1000) return `$${Math.round(usd).toLocaleString('en-US')}`;
  if (usd >= 0.995 || usd === 0) return `$${usd.toFixed(2)}`;
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : '<$0.01';
}

export function formatHours(hours: number): string {
  if (hours < 48) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** "2025-03-04 14:00 UTC". */
export function formatUtc(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "2025-03-04 14:00–15:00 UTC (15:00–16:00 Europe/Berlin)"; the zone part only when not UTC. */
export function hourRange(bucketStart: number, timeZone: string): string {
  const utc = `${formatUtc(bucketStart).slice(0, 16)}–${clock(bucketStart + HOUR_SECONDS, 'UTC')} UTC`;
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return utc;
  return `${utc} (${localDate(bucketStart, timeZone)} ${clock(bucketStart, timeZone)}–${clock(bucketStart + HOUR_SECONDS, timeZone)} ${timeZone})`;
}

function clock(unixSeconds: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(unixSeconds * 1000);
}

function localDate(unixSeconds: number, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(unixSeconds * 1000);
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function maxSeverity(alerts: readonly Alert[]): Severity {
  let best: Severity = 'low';
  for (const a of alerts) if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[best]) best = a.severity;
  return best;
}

/** Alerts most worth reading first: open ones before recoveries, then biggest excess USD, severity, latest hour. */
export function byImportance(a: Alert, b: Alert): number {
  return (
    Number(a.type === 'resolved') - Number(b.type === 'resolved') ||
    b.excessUsdTotal - a.excessUsdTotal ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    b.bucketStart - a.bucketStart
  );
}

export function countByType(alerts: readonly Alert[]): Partial<Record<AlertType, number>> {
  const counts: Partial<Record<AlertType, number>> = {};
  for (const a of alerts) counts[a.type] = (counts[a.type] ?? 0) + 1;
  return counts;
}

const TYPE_WORDS: Record<AlertType, [string, string]> = {
  spike: ['spike', 'spikes'],
  new_key: ['new key', 'new keys'],
  reminder: ['still open', 'still open'],
  // Not "resolved": only a recovery notice's headline may say that word.
  resolved: ['back to normal', 'back to normal'],
};

/** "3 spikes, 1 new key, 2 resolved". */
export function describeCounts(alerts: readonly Alert[]): string {
  const counts = countByType(alerts);
  return (Object.keys(TYPE_WORDS) as AlertType[])
    .filter((t) => counts[t])
    .map((t) => `${counts[t]} ${TYPE_WORDS[t][counts[t] === 1 ? 0 : 1]}`)
    .join(', ');
}
