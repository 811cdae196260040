// Delivery channels that print what would be sent: the demo's Slack and email, rendered for a
// terminal. They sit where the webhook client and the SNS publisher sit, behind the same delivery code.
import type { Deadline } from '../../functions/core/usage.ts';
import type { EmailMessage } from '../../functions/notify/email-message.ts';
import type { SlackPayload } from '../../functions/notify/slack-message.ts';
import type { SlackChannel } from '../../functions/notify/slack-webhook-client.ts';
import type { EmailChannel } from '../../functions/notify/sns-publisher.ts';

type Block = SlackPayload['blocks'][number];

const styled = process.stdout.isTTY === true && !process.env.NO_COLOR;
const bold = (s: string) => (styled ? `\u001b[1m${s}\u001b[22m` : s);
const dim = (s: string) => (styled ? `\u001b[2m${s}\u001b[22m` : s);

/** Slack mrkdwn to terminal text: *bold*, <url|label> links, and the three escaped characters. */
function mrkdwn(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/\*([^*\n]+)\*/g, (_, inner: string) => bold(inner))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function blockLines(block: Block): string[] {
  switch (block.type) {
    case 'header':
      return [bold(block.text.text)];
    case 'section':
      return mrkdwn(block.text.text).split('\n');
    case 'context':
      return [dim(block.elements.map((element) => mrkdwn(element.text)).join('  ·  '))];
    case 'divider':
      return ['─'.repeat(40)];
    case 'actions':
      return [block.elements.map((button) => `[${button.text.text}] ${dim(button.url ?? '')}`).join('  ')];
  }
}

export function renderSlackForTerminal(payload: SlackPayload): string {
  const lines = payload.blocks.flatMap(blockLines);
  return lines.map((line) => `  │ ${line}`).join('\n');
}

export function renderEmailForTerminal(message: EmailMessage): string {
  const lines = [`Subject: ${message.subject}`, '', ...message.message.split('\n')];
  return lines.map((line) => `  │ ${line}`).join('\n');
}

export class TerminalSlackChannel implements SlackChannel {
  readonly #print: (text: string) => void;
  readonly #forward: SlackChannel | undefined;
  readonly posted: SlackPayload[] = [];

  /** `forward`: also post to a real webhook (`demo --slack-webhook URL`). */
  constructor(print: (text: string) => void, forward?: SlackChannel) {
    this.#print = print;
    this.#forward = forward;
  }

  async post(payload: SlackPayload, deadline: Deadline): Promise<void> {
    if (this.#forward) await this.#forward.post(payload, deadline);
    this.posted.push(payload);
    this.#print(`\n${bold('Slack')} ${dim(`(${payload.text})`)}\n${renderSlackForTerminal(payload)}\n`);
  }
}

export class TerminalEmailChannel implements EmailChannel {
  readonly #print: (text: string) => void;
  readonly published: EmailMessage[] = [];

  constructor(print: (text: string) => void) {
    this.#print = print;
  }

  async publish(message: EmailMessage): Promise<void> {
    this.published.push(message);
    this.#print(`\n${bold('Email')} ${dim('(SNS)')}\n${renderEmailForTerminal(message)}\n`);
  }
}
