// Posts payloads to one Slack incoming webhook. The URL is a secret (whoever holds it can post to the
// channel): it lives in a private field and never appears in an error, a log line, util.inspect or JSON.
import { inspect } from 'node:util';
import { request } from 'undici';
import type { Deadline } from '../core/usage.ts';
import { DeliveryError } from './delivery-error.ts';
import type { SlackPayload } from './slack-message.ts';

export interface NotifyLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** What deliver-alerts needs from Slack: one webhook, and optionally another one per project. */
export interface SlackChannel {
  post(payload: SlackPayload, deadline: Deadline): Promise<void>;
  /**
   * The channel for a project's alerts when it has its own webhook; undefined: this one.
   * Hook for per-project webhooks (see SlackRoutes in deliver-alerts.ts).
   */
  forProject?(projectId: string): SlackChannel | undefined;
}

export interface SlackWebhookClientOptions {
  url: string;
  /** Spacing between messages to one webhook; Slack allows about one a second. */
  minIntervalMs?: number;
  /** Attempts per message for 5xx, 429 and network errors. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Waits (pacing, Retry-After, backoff) go through this; tests record them instead of timing them. */
  sleep?: (ms: number) => Promise<void>;
  logger?: NotifyLogger;
}

// Per webhook, the earliest time the next message may go: shared by every client of the same URL in
// this process, so two clients cannot together exceed Slack's rate.
const nextSlotByWebhook = new Map<string, number>();

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Bodies Slack answers with, by meaning. Anything else is reported as "unexpected_response". */
const REVOKED = new Set([
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'channel_not_found',
  'channel_is_archived',
  'invalid_token',
  'action_prohibited',
  'posting_to_general_channel_denied',
]);

export class SlackWebhookClient implements SlackChannel {
  readonly #url: string;
  readonly #minIntervalMs: number;
  readonly #maxAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: NotifyLogger | undefined;

  constructor(options: SlackWebhookClientOptions) {
    // Parse now so a malformed URL fails at start-up, without echoing it.
    if (!URL.canParse(options.url))
      throw new DeliveryError('The Slack webhook URL is not a valid URL', invalidUrl);
    this.#url = options.url;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#logger = options.logger;
  }

  /** Delivers one message or throws DeliveryError; never retries past the deadline. */
  async post(payload: SlackPayload, deadline: Deadline): Promise<void> {
    let body = JSON.stringify(payload);
    let triedTextOnly = false;
    let last: DeliveryError | undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      await this.#waitForSlot(deadline);
      const remaining = deadline.atMs - Date.now();
      const timeout = Math.max(1, Math.min(this.#requestTimeoutMs, remaining));
      let status: number;
      let answer: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await request(this.#url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: AbortSignal.timeout(timeout),
        });
        status = response.statusCode;
        answer = slackReason(await response.body.text().catch(() => ''));
        retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      } catch (error) {
        const code = networkCode(error);
        last = new DeliveryError(`Slack webhook unreachable (${code}) after ${attempt} attempt(s)`, {
          channel: 'slack',
          permanent: false,
          reason: code,
        });
        await this.#backoff(attempt, deadline, last, undefined);
        continue;
      }
      if (status >= 200 && status < 300) return;
      const httpText = `HTTP ${status} ${answer}`;
      if (status === 404 || status === 410 || status === 401 || status === 403 || REVOKED.has(answer)) {
        throw new DeliveryError(
          `Slack webhook refused the message permanently (${httpText}): the webhook was revoked or its channel ` +
            'removed. Create a new incoming webhook and update the Slack webhook secret.',
          { channel: 'slack', permanent: true, reason: answer, status },
        );
      }
      if (status === 429) {
        last = new DeliveryError(`Slack rate-limited the webhook (${httpText})`, {
          channel: 'slack',
          permanent: false,
          reason: 'rate_limited',
          status,
        });
        await this.#backoff(attempt, deadline, last, retryAfterMs ?? 1000);
        continue;
      }
      if (status === 400) {
        // A payload Slack cannot render would fail every run: fall back once to the headline alone.
        if (!triedTextOnly && payload.blocks.length > 0) {
          triedTextOnly = true;
          this.#logger?.warn('Slack rejected the blocks; sending the headline alone', { reason: answer });
          body = JSON.stringify({ text: payload.text });
          attempt--;
          continue;
        }
        throw new DeliveryError(`Slack rejected the message (${httpText})`, {
          channel: 'slack',
          permanent: false,
          reason: answer,
          status,
        });
      }
      last = new DeliveryError(`Slack webhook failed (${httpText}) after ${attempt} attempt(s)`, {
        channel: 'slack',
        permanent: false,
        reason: answer,
        status,
      });
      if (status < 500) throw last;
      await this.#backoff(attempt, deadline, last, undefined);
    }
    throw (
      last ??
      new DeliveryError('Slack webhook: no attempt made', {
        channel: 'slack',
        permanent: false,
        reason: 'none',
      })
    );
  }

  /** Waits before the next attempt, or throws `last` when none is left or the wait would pass the deadline. */
  async #backoff(attempt: number, deadline: Deadline, last: DeliveryError, retryAfterMs: number | undefined) {
    if (attempt >= this.#maxAttempts) throw last;
    const wait = retryAfterMs ?? Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    if (Date.now() + wait >= deadline.atMs) {
      throw new DeliveryError(`${last.message}; no time left to retry before the deadline`, {
        channel: 'slack',
        permanent: false,
        reason: last.reason,
        status: last.status,
      });
    }
    this.#logger?.warn('Slack webhook: retrying', {
      attempt,
      waitMs: Math.round(wait),
      reason: last.reason,
      status: last.status,
    });
    // Retry-After and backoff also hold back every other message to this webhook.
    nextSlotByWebhook.set(this.#url, Math.max(nextSlotByWebhook.get(this.#url) ?? 0, Date.now() + wait));
    await this.#sleep(wait);
  }

  async #waitForSlot(deadline: Deadline): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, nextSlotByWebhook.get(this.#url) ?? 0);
    if (slot >= deadline.atMs) {
      throw new DeliveryError('Slack webhook: no time left before the deadline', {
        channel: 'slack',
        permanent: false,
        reason: 'deadline',
      });
    }
    nextSlotByWebhook.set(this.#url, slot + this.#minIntervalMs);
    if (slot > now) await this.#sleep(slot - now);
  }

  toJSON(): Record<string, string> {
    return { type: 'SlackWebhookClient', webhook: '[redacted]' };
  }

  [inspect.custom](): string {
    return 'SlackWebhookClient { webhook: [redacted] }';
  }
}

const invalidUrl = { channel: 'slack', permanent: true, reason: 'invalid_url' } as const;

export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError';
}

/**
 * For webhook URLs from configuration and secrets: only https://hooks.slack.com/..., unless `allowLocal`
 * (local receivers on loopback, for tests and demos). A URL typed on the command line skips this check.
 * Errors say what is wrong, never what the URL is.
 */
export function checkWebhookUrl(url: string, options: { allowLocal?: boolean } = {}): string {
  const trimmed = url.trim();
  if (!URL.canParse(trimmed)) throw new WebhookUrlError('The Slack webhook URL is not a valid URL');
  const parsed = new URL(trimmed);
  if (parsed.username || parsed.password)
    throw new WebhookUrlError('The Slack webhook URL must not carry credentials');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (loopback && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    if (options.allowLocal) return trimmed;
    throw new WebhookUrlError(
      'The Slack webhook URL points to a loopback address; allow local webhooks explicitly for a local receiver',
    );
  }
  if (parsed.protocol !== 'https:') throw new WebhookUrlError('The Slack webhook URL must use https');
  if (parsed.hostname !== 'hooks.slack.com' || parsed.port !== '') {
    throw new WebhookUrlError(
      'The Slack webhook URL must point to https://hooks.slack.com/ (it points to another host)',
    );
  }
  if (parsed.pathname.length < 2) throw new WebhookUrlError('The Slack webhook URL has no path');
  return trimmed;
}

/** Slack answers errors with a short token such as "no_service"; anything else (an HTML page) is not echoed. */
function slackReason(body: string): string {
  const token = body.trim();
  return /^[a-z_]{1,60}$/.test(token) ? token : token === '' ? 'empty_response' : 'unexpected_response';
}

/** Seconds or an HTTP date, as RFC 9110 allows; capped at 5 minutes. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(raw) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), 300_000);
}

/** An error code without its message: undici's messages can name the host and port. */
function networkCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  const name = error instanceof Error ? error.name : 'Error';
  return /^[A-Za-z]{1,40}$/.test(name) ? name : 'network_error';
}
