// Alerts as Slack incoming-webhook payloads: Block Kit `blocks` plus the headline as fallback `text`.
// Everything that comes from outside (names) is escaped and cut to fit Slack's limits.
import type { Alert } from '../core/alert.ts';
import {
  type AlertFacts,
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

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}
export interface SlackButton {
  type: 'button';
  text: PlainText;
  url: string;
  action_id?: string;
}
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: MrkdwnText }
  | { type: 'divider' }
  | { type: 'context'; elements: (PlainText | MrkdwnText)[] }
  | { type: 'actions'; elements: SlackButton[] };

export interface SlackPayload {
  /** The headline: notifications and clients without Block Kit show only this. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's documented limits (api.slack.com/reference/block-kit). */
export const SLACK_LIMITS = {
  text: 40_000,
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  url: 3000,
} as const;

/** Our own cap on the fallback text: it is a headline, not the message. */
const HEADLINE_MAX = 300;
const NAME_MAX = 120;
export const DIGEST_TOP_DEFAULT = 10;

/** Slack mrkdwn treats only &, < and > as control characters; escaping them keeps names literal. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const ICON: Record<Alert['type'], string> = {
  spike: '🚨',
  new_key: '🆕',
  reminder: '⏰',
  resolved: '✅',
};

/** The one-line headline of an alert, plain text (callers escape for mrkdwn). Shared with email. */
export function alertHeadline(f: AlertFacts): string {
  const who = `${clip(f.keyShort, NAME_MAX)} in ${clip(f.projectShort, NAME_MAX)}`;
  switch (f.type) {
    case 'spike':
      return `Token spike: ${who} at ${f.ratioText}`;
    case 'new_key':
      return `New API key in heavy use: ${who}`;
    case 'reminder':
      return f.escalated
        ? `Escalated to ${f.severity}: ${who} at ${f.ratioText}`
        : `Still above normal: ${who} at ${f.ratioText}`;
    case 'resolved':
      return `Resolved: ${who} ${f.newNormal ? 'taken as its new normal' : 'back to normal'}${f.durationText ? ` after ${f.durationText}` : ''}`;
  }
}

export function renderSlackAlert(alert: Alert, options: MessageOptions): SlackPayload {
  const f = alertFacts(alert, options);
  const headline = alertHeadline(f);
  const summary =
    alert.type === 'resolved'
      ? `${headline}; excess ${formatTokens(alert.excessTokensTotal)} tokens (~${formatUsd(alert.excessUsdTotal)})`
      : `${headline}; ~${formatUsd(alert.usdObserved)} this hour`;
  const facts: string[] = [
    `*Project:* ${escapeMrkdwn(clip(f.projectLabel, 2 * NAME_MAX))}`,
    `*API key:* ${escapeMrkdwn(clip(f.keyLabel, 3 * NAME_MAX))}`,
  ];
  if (alert.type === 'resolved') {
    if (f.durationText) facts.push(`*Duration:* ${f.durationText}`);
    facts.push(`*Excess in total:* ${f.excessLine}`);
    facts.push(`*Last hour:* ${f.tokensLine}`);
  } else {
    facts.push(`*Tokens:* ${f.tokensLine}`);
    facts.push(`*Cost:* ${f.costLine}`);
    facts.push(`*Excess so far:* ${f.excessLine}`);
  }
  if (f.modelLine) facts.push(`*Top model:* \`${escapeMrkdwn(clip(f.modelLine, NAME_MAX))}\``);
  if (f.driverLine && alert.type !== 'resolved') facts.push(`*Why:* ${f.driverLine}`);
  facts.push(`*When:* ${f.whenLine}`);
  if (f.sparkline) facts.push(`*Last ${alert.recentTokens.length} h:* ${f.sparkline}`);
  facts.push(`*Severity:* ${alert.severity}`);

  const blocks: SlackBlock[] = [
    header(`${ICON[alert.type]} ${headline}`),
    section(facts.join('\n')),
    section(`*What to do*\n${f.nextSteps.map((s) => `• ${s}`).join('\n')}`),
    {
      type: 'actions',
      elements: f.links.map((l, i) => button(l.label, l.url, `link_${i}`)),
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(clip(f.idsLine, 2000)) }] },
  ];
  return { text: escapeMrkdwn(clip(summary, HEADLINE_MAX)), blocks };
}

export interface DigestOptions extends MessageOptions {
  /** How many alerts are listed one by one; the rest are counted. */
  top?: number;
}

/** Many alerts of one run as a single message: the top ones by excess USD listed, the rest counted. */
export function renderSlackDigest(alerts: readonly Alert[], options: DigestOptions): SlackPayload {
  const top = Math.max(1, Math.min(options.top ?? DIGEST_TOP_DEFAULT, 40));
  const sorted = [...alerts].sort(byImportance);
  const listed = sorted.slice(0, top);
  const rest = sorted.slice(top);
  const headline = digestHeadline(alerts);
  const totalExcess = alerts.filter((a) => a.type !== 'resolved').reduce((s, a) => s + a.excessUsdTotal, 0);
  const blocks: SlackBlock[] = [
    header(`📊 ${headline}`),
    section(
      `*${alerts.length} alerts in one run* (${describeCounts(alerts)}); highest severity ${maxSeverity(alerts)}.` +
        (totalExcess > 0 ? `\nOpen incidents: ~${formatUsd(totalExcess)} over normal so far.` : '') +
        `\nListed by excess cost${rest.length ? `; the top ${listed.length}` : ''}:`,
    ),
  ];
  listed.forEach((a, i) => {
    blocks.push(section(digestLine(a, i + 1, options)));
  });
  if (rest.length) {
    const restUsd = rest.reduce((s, a) => s + (a.type === 'resolved' ? 0 : a.excessUsdTotal), 0);
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${rest.length} more (${describeCounts(rest)}; ~${formatUsd(restUsd)} over normal). Every alert is in the run's alert records.`,
        },
      ],
    });
  }
  blocks.push({
    type: 'actions',
    elements: [
      button('Usage dashboard', OPENAI_USAGE_URL, 'link_0'),
      button('API keys', OPENAI_API_KEYS_URL, 'link_1'),
    ],
  });
  return { text: escapeMrkdwn(clip(headline, HEADLINE_MAX)), blocks };
}

/** A digest's headline says "resolved" only when every alert in it is a recovery notice. */
export function digestHeadline(alerts: readonly Alert[]): string {
  const first = [...alerts].sort(byImportance)[0];
  if (alerts.every((a) => a.type === 'resolved')) return `${alerts.length} usage incidents resolved`;
  const lead = first && first.type !== 'resolved' ? leadText(first) : '';
  return `${alerts.length} usage alerts: ${describeCounts(alerts)}${lead}`;
}

function leadText(a: Alert): string {
  const f = alertFacts(a, { timeZone: 'UTC' });
  return `; top: ${clip(f.keyShort, 40)} in ${clip(f.projectShort, 40)} (${f.ratioText})`;
}

function digestLine(a: Alert, n: number, options: MessageOptions): string {
  const f = alertFacts(a, options);
  const what = `*${n}. ${escapeMrkdwn(alertHeadline(f))}*`;
  const detail =
    a.type === 'resolved'
      ? `excess ${formatTokens(a.excessTokensTotal)} tokens (~${formatUsd(a.excessUsdTotal)})`
      : `~${formatUsd(a.excessUsdTotal)} over normal so far · ${formatTokens(a.observed)} tokens this hour`;
  const model = f.modelLine ? ` · \`${escapeMrkdwn(clip(f.modelLine, 60))}\`` : '';
  const spark = f.sparkline ? ` ${f.sparkline}` : '';
  return `${what}\n${detail}${model} · ${hourRange(a.bucketStart, options.timeZone)} · ${a.severity}${spark}\n_${escapeMrkdwn(f.idsLine)}_`;
}

function header(text: string): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: clip(text, SLACK_LIMITS.headerText), emoji: true },
  };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clipMrkdwn(text, SLACK_LIMITS.sectionText) } };
}

function button(label: string, url: string, actionId: string): SlackButton {
  return {
    type: 'button',
    text: { type: 'plain_text', text: clip(label, SLACK_LIMITS.buttonText) },
    url,
    action_id: actionId,
  };
}

/** Cuts to `max` UTF-16 units, never inside a surrogate pair, marking the cut with "…". */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** Like clip, but never leaves half an HTML entity (&amp;) at the end. */
function clipMrkdwn(text: string, max: number): string {
  const cut = clip(text, max);
  if (cut === text) return text;
  return cut.replace(/&[a-z]{0,4}…$/, '…');
}

/** Every way a payload breaks Slack's Block Kit limits; [] when it fits. */
export function checkBlockKitLimits(payload: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(payload)) return ['payload is not an object'];
  const { text, blocks } = payload;
  if (typeof text !== 'string' || text.length === 0) problems.push('top-level text is missing or empty');
  else if (length(text) > SLACK_LIMITS.text)
    problems.push(`top-level text has ${length(text)} chars (max 40000)`);
  if (blocks === undefined) return problems;
  if (!Array.isArray(blocks)) return [...problems, 'blocks is not an array'];
  if (blocks.length > SLACK_LIMITS.blocks)
    problems.push(`${blocks.length} blocks (max ${SLACK_LIMITS.blocks})`);
  blocks.forEach((block: unknown, i) => {
    const at = `blocks[${i}]`;
    if (!isObject(block)) {
      problems.push(`${at} is not an object`);
      return;
    }
    if (typeof block.block_id === 'string' && block.block_id.length > 255)
      problems.push(`${at}.block_id > 255`);
    switch (block.type) {
      case 'header':
        checkText(block.text, `${at}.text`, SLACK_LIMITS.headerText, problems, 'plain_text');
        break;
      case 'section': {
        if (block.text === undefined && block.fields === undefined)
          problems.push(`${at} has neither text nor fields`);
        if (block.text !== undefined) checkText(block.text, `${at}.text`, SLACK_LIMITS.sectionText, problems);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > 10) problems.push(`${at}.fields: max 10`);
          else
            for (const [j, f] of block.fields.entries()) checkText(f, `${at}.fields[${j}]`, 2000, problems);
        }
        break;
      }
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) problems.push(`${at}.elements is empty`);
        else {
          if (elements.length > SLACK_LIMITS.contextElements)
            problems.push(`${at} has ${elements.length} elements (max ${SLACK_LIMITS.contextElements})`);
          for (const [j, e] of elements.entries()) checkText(e, `${at}.elements[${j}]`, 3000, problems);
        }
        break;
      }
      case 'actions': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) problems.push(`${at}.elements is empty`);
        else {
          if (elements.length > SLACK_LIMITS.actionsElements)
            problems.push(`${at} has more than 25 elements`);
          for (const [j, e] of (elements as unknown[]).entries()) {
            const where = `${at}.elements[${j}]`;
            if (!isObject(e)) {
              problems.push(`${where} is not an object`);
              continue;
            }
            checkText(e.text, `${where}.text`, SLACK_LIMITS.buttonText, problems, 'plain_text');
            if (e.url !== undefined) {
              if (typeof e.url !== 'string' || e.url.length === 0)
                problems.push(`${where}.url is not a string`);
              else if (e.url.length > SLACK_LIMITS.url)
                problems.push(`${where}.url > ${SLACK_LIMITS.url} chars`);
            }
            if (typeof e.action_id === 'string' && e.action_id.length > 255)
              problems.push(`${where}.action_id > 255`);
          }
        }
        break;
      }
      case 'divider':
        break;
      default:
        problems.push(`${at} has a block type this checker does not know: ${String(block.type)}`);
    }
  });
  return problems;
}

function checkText(
  value: unknown,
  at: string,
  max: number,
  problems: string[],
  requiredType?: 'plain_text' | 'mrkdwn',
): void {
  if (!isObject(value) || typeof value.text !== 'string')
    return void problems.push(`${at} is not a text object`);
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn')
    problems.push(`${at}.type is not plain_text or mrkdwn`);
  if (requiredType && value.type !== requiredType) problems.push(`${at} must be ${requiredType}`);
  if (value.text.length === 0) problems.push(`${at}.text is empty`);
  if (length(value.text) > max) problems.push(`${at}.text has ${length(value.text)} chars (max ${max})`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
// Slack counts characters; UTF-16 length is the stricter reading, so use it.
const length = (s: string): number => s.length;
