// Alerts as SNS messages for email subscribers: an ASCII subject, a plain-text body with the same facts as
// the Slack message, and message attributes subscribers can filter on.
//
// Filtering: a subscription with the filter policy
//   { "severity": ["critical"] }
// (scope MessageAttributes) receives only critical alerts; { "type": ["spike", "new_key"] } skips reminders
// (escalations to a higher severity among them) and recovery notices; { "project_id": ["proj_abc"] } one project. Attributes of a single alert are
// `String`; a digest's are `String.Array` of every value in it (plus type "digest"), and SNS matches an
// array when any element matches, so a digest holding a critical alert still reaches the critical-only
// subscriber.
import type { Alert } from '../core/alert.ts';
import {
  alertFacts,
  byImportance,
  describeCounts,
  formatTokens,
  formatUsd,
  hourRange,
  type MessageOptions,
  maxSeverity,
  OPENAI_API_KEYS_URL,
  OPENAI_USAGE_URL,
} from './alert-facts.ts';
import {
  alertHeadline,
  clip,
  DIGEST_TOP_DEFAULT,
  type DigestOptions,
  digestHeadline,
} from './slack-message.ts';

export interface MessageAttribute {
  DataType: 'String' | 'String.Array';
  StringValue: string;
}

export interface EmailMessage {
  /** SNS email subject: ASCII, no line breaks, under 100 characters. */
  subject: string;
  /** Plain text, UTF-8. */
  message: string;
  attributes: Record<'type' | 'severity' | 'project_id' | 'api_key_id', MessageAttribute>;
}

const SUBJECT_PREFIX = '[usage-sentinel] ';
const SUBJECT_MAX = 99;

export function renderEmailAlert(alert: Alert, options: MessageOptions): EmailMessage {
  const f = alertFacts(alert, options);
  const headline = alertHeadline(f);
  const rows: [string, string | undefined][] = [
    ['Project', f.projectLabel],
    ['API key', f.keyLabel],
  ];
  if (alert.type === 'resolved') {
    rows.push(['Duration', f.durationText], ['Excess in total', f.excessLine], ['Last hour', f.tokensLine]);
  } else {
    rows.push(['Tokens', f.tokensLine], ['Cost', f.costLine], ['Excess so far', f.excessLine]);
  }
  rows.push(['Top model', f.modelLine]);
  if (alert.type !== 'resolved') rows.push(['Why', f.driverLine]);
  rows.push(
    ['When', f.whenLine],
    [`Last ${alert.recentTokens.length} h`, f.sparkline],
    ['Severity', alert.severity],
  );
  const lines = [
    headline,
    '',
    ...table(rows),
    '',
    'What to do',
    ...f.nextSteps.map((s) => `- ${plain(s)}`),
    '',
    'Links',
    ...f.links.map((l) => `- ${l.label}: ${l.url}`),
    '',
    `-- ${f.idsLine}`,
  ];
  return {
    subject: emailSubject(subjectLine(alert, options)),
    message: lines.join('\n'),
    attributes: {
      type: { DataType: 'String', StringValue: alert.type },
      severity: { DataType: 'String', StringValue: alert.severity },
      project_id: { DataType: 'String', StringValue: alert.projectId },
      api_key_id: { DataType: 'String', StringValue: alert.apiKeyId ?? 'none' },
    },
  };
}

export function renderEmailDigest(alerts: readonly Alert[], options: DigestOptions): EmailMessage {
  const top = Math.max(1, Math.min(options.top ?? DIGEST_TOP_DEFAULT, 100));
  const sorted = [...alerts].sort(byImportance);
  const listed = sorted.slice(0, top);
  const rest = sorted.slice(top);
  const headline = digestHeadline(alerts);
  const lines = [
    headline,
    '',
    `${alerts.length} alerts in one run (${describeCounts(alerts)}); highest severity ${maxSeverity(alerts)}.`,
    `Listed by excess cost${rest.length ? `, the top ${listed.length}` : ''}:`,
    '',
  ];
  listed.forEach((a, i) => {
    const f = alertFacts(a, options);
    lines.push(`${i + 1}. ${alertHeadline(f)}`);
    lines.push(
      a.type === 'resolved'
        ? `   excess ${formatTokens(a.excessTokensTotal)} tokens (~${formatUsd(a.excessUsdTotal)})`
        : `   ~${formatUsd(a.excessUsdTotal)} over normal so far; ${formatTokens(a.observed)} tokens this hour` +
            (f.modelLine ? `; top model ${f.modelLine}` : ''),
    );
    lines.push(`   ${hourRange(a.bucketStart, options.timeZone)}; severity ${a.severity}`);
    lines.push(`   ${f.idsLine}`, '');
  });
  if (rest.length) lines.push(`...and ${rest.length} more (${describeCounts(rest)}).`, '');
  lines.push('Links', `- Usage dashboard: ${OPENAI_USAGE_URL}`, `- API keys: ${OPENAI_API_KEYS_URL}`);
  const distinct = (values: string[]) => JSON.stringify([...new Set(values)]);
  return {
    subject: emailSubject(headline),
    message: lines.join('\n'),
    attributes: {
      type: { DataType: 'String.Array', StringValue: distinct(['digest', ...alerts.map((a) => a.type)]) },
      severity: { DataType: 'String.Array', StringValue: distinct(alerts.map((a) => a.severity)) },
      project_id: { DataType: 'String.Array', StringValue: distinct(alerts.map((a) => a.projectId)) },
      api_key_id: {
        DataType: 'String.Array',
        StringValue: distinct(alerts.map((a) => a.apiKeyId ?? 'none')),
      },
    },
  };
}

/** The facts that matter most first, names cut short, so the cut at 99 characters loses little. */
function subjectLine(alert: Alert, options: MessageOptions): string {
  const f = alertFacts(alert, options);
  const who = `${clip(f.keyShort, 28)} in ${clip(f.projectShort, 28)}`;
  switch (alert.type) {
    case 'spike':
      return `Spike ${f.ratioAscii}: ${who}, ~${formatUsd(alert.usdObserved)}/h`;
    case 'new_key':
      return `New key: ${who}, ${formatTokens(alert.observed)} tokens, ~${formatUsd(alert.usdObserved)}/h`;
    case 'reminder':
      return f.escalated
        ? `Escalated to ${alert.severity} ${f.ratioAscii}: ${who}, ~${formatUsd(alert.usdObserved)}/h`
        : `Still high ${f.ratioAscii}: ${who}, ~${formatUsd(alert.excessUsdTotal)} over so far`;
    case 'resolved':
      return `Resolved${f.newNormal ? ' as new normal' : ''}: ${who}${f.durationText ? ` after ${f.durationText}` : ''}, excess ~${formatUsd(alert.excessUsdTotal)}`;
  }
}

/** SNS rejects subjects with line breaks, control characters or 100+ characters; email clients mangle non-ASCII. */
export function emailSubject(headline: string): string {
  const ascii = toAscii(`${SUBJECT_PREFIX}${headline}`).replace(/\s+/g, ' ').trim();
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3).trimEnd()}...`;
}

const ASCII_STAND_INS: Record<string, string> = {
  '×': 'x',
  '–': '-',
  '—': '-',
  '…': '...',
  '·': '-',
  '’': "'",
};

export function toAscii(text: string): string {
  return Array.from(text.normalize('NFKD'))
    .filter((ch) => !/\p{M}/u.test(ch))
    .map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      if (code >= 0x20 && code < 0x7f) return ch;
      if (code < 0x20 || code === 0x7f) return ' ';
      return ASCII_STAND_INS[ch] ?? '?';
    })
    .join('');
}

function table(rows: [string, string | undefined][]): string[] {
  const present = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  const width = Math.max(...present.map(([k]) => k.length)) + 2;
  return present.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
}

/** Next steps are written once with inline code for Slack; email gets them without the backticks. */
const plain = (text: string): string => text.replaceAll('`', '');
