// Sends what the outbox holds, per channel and independently: Slack and email never wait on each other.
//
// Exactly once, in practice. Neither channel can deduplicate for us: a Slack webhook takes no idempotency
// key, and SNS deduplicates only on FIFO topics, which cannot deliver email. So each send is fenced by two
// conditional writes on the outbox entry:
//   1. claim:  pending -> sending (this run, at t)       before the send
//   2. mark:   sending (this run) -> sent                 right after the send succeeds
// A send that throws DeliveryError certainly did not deliver: the claim is released and the next run
// tries again. Anything else (the process dies, the mark fails, an unexpected throw) leaves the entry
// "sending" with its claim. A later run skips such an entry while the claim is younger than the lease (the
// claiming run may still be at work), and after that takes it as delivered, flagged unconfirmed and
// logged. That is at-most-once for the short window between claim and confirmed send: a message can be
// lost only when a run dies after claiming and before Slack or SNS received it, never sent twice. We
// chose that side because a duplicate page is a false alarm, and a run dying in that window is rare.
import { randomUUID } from 'node:crypto';
import type { Alert } from '../core/alert.ts';
import { errorMessage } from '../core/error-message.ts';
import type { Deadline } from '../core/usage.ts';
import type { MessageOptions } from './alert-facts.ts';
import type { AlertOutbox, OutboxEntry } from './alert-outbox.ts';
import { type ChannelName, DeliveryError } from './delivery-error.ts';
import { type EmailMessage, renderEmailAlert, renderEmailDigest } from './email-message.ts';
import { renderSlackAlert, renderSlackDigest, type SlackPayload } from './slack-message.ts';
import type { SlackChannel } from './slack-webhook-client.ts';
import type { EmailChannel } from './sns-publisher.ts';

export type { SlackChannel } from './slack-webhook-client.ts';
export type { EmailChannel } from './sns-publisher.ts';

export interface DeliveryLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** The outbox operations delivery uses (AlertOutbox has them). */
export type DeliveryOutbox = Pick<
  AlertOutbox,
  'pending' | 'claim' | 'markDelivered' | 'release' | 'settleStaleClaim' | 'expire'
>;

export interface DeliverPendingAlertsOptions {
  outbox: DeliveryOutbox;
  channels: { slack?: SlackChannel | undefined; email?: EmailChannel | undefined };
  /** A SentinelConfig fits. */
  config: { notifications: { timeZone: string; digestAfter: number } };
  deadline: Deadline;
  logger?: DeliveryLogger;
  runId?: string;
  /** The clock for claims, epoch ms (tests move it past the lease). */
  now?: () => number;
  /** How long a claim protects an entry from other runs; longer than any run (Lambda: 15 min). */
  claimLeaseMs?: number;
  /** Entries pending longer than this since they were recorded are dropped, not sent. */
  maxPendingHours?: number;
  /** Alerts listed one by one in a digest. */
  digestTop?: number;
  projectUrl?: MessageOptions['projectUrl'];
}

export interface ChannelCounts {
  slack: number;
  email: number;
}

export interface DeliveryResult {
  /** Alerts delivered (a digest counts every alert in it). */
  sent: ChannelCounts;
  /** Alerts whose send failed this run; they stay pending, except after an unknown outcome. */
  failed: ChannelCounts;
  /** Messages posted or published. */
  messages: ChannelCounts;
  /** Left pending without trying: out of time, or the channel failed earlier in this run. */
  deferred: ChannelCounts;
  /** Stale claims of dead runs taken as delivered. */
  assumedSent: ChannelCounts;
  /** Too old to send; marked expired. */
  expired: ChannelCounts;
  /** Outbox (DynamoDB) errors that stopped a channel; its alerts stay pending. */
  errors: string[];
}

export const DEFAULT_CLAIM_LEASE_MS = 20 * 60 * 1000;
export const DEFAULT_MAX_PENDING_HOURS = 72;

interface Target<M> {
  name: ChannelName;
  /** Groups alerts that go to the same place (one Slack webhook, the one topic). */
  route(alert: Alert): object;
  renderOne(alert: Alert): M;
  renderDigest(alerts: Alert[]): M;
  send(route: object, message: M): Promise<void>;
}

export async function deliverPendingAlerts(options: DeliverPendingAlertsOptions): Promise<DeliveryResult> {
  const zero = (): ChannelCounts => ({ slack: 0, email: 0 });
  const result: DeliveryResult = {
    sent: zero(),
    failed: zero(),
    messages: zero(),
    deferred: zero(),
    assumedSent: zero(),
    expired: zero(),
    errors: [],
  };
  const messageOptions: MessageOptions = {
    timeZone: options.config.notifications.timeZone,
    ...(options.projectUrl ? { projectUrl: options.projectUrl } : {}),
  };
  const digestOptions = { ...messageOptions, ...(options.digestTop ? { top: options.digestTop } : {}) };
  const work: Promise<void>[] = [];
  const { slack, email } = options.channels;
  // One run id for both channels: it names this run's claims.
  const run = { ...options, runId: options.runId ?? randomUUID() };
  if (slack) {
    const target: Target<SlackPayload> = {
      name: 'slack',
      route: (alert) => slack.forProject?.(alert.projectId) ?? slack,
      renderOne: (alert) => renderSlackAlert(alert, messageOptions),
      renderDigest: (alerts) => renderSlackDigest(alerts, digestOptions),
      send: (route, payload) => (route as SlackChannel).post(payload, options.deadline),
    };
    work.push(deliverChannel(target, run, result));
  }
  if (email) {
    const target: Target<EmailMessage> = {
      name: 'email',
      route: () => email,
      renderOne: (alert) => renderEmailAlert(alert, messageOptions),
      renderDigest: (alerts) => renderEmailDigest(alerts, digestOptions),
      send: (_route, message) => email.publish(message, options.deadline),
    };
    work.push(deliverChannel(target, run, result));
  }
  await Promise.all(work);
  return result;
}

async function deliverChannel<M>(
  target: Target<M>,
  options: DeliverPendingAlertsOptions,
  result: DeliveryResult,
): Promise<void> {
  const { outbox, logger } = options;
  const channel = target.name;
  const now = options.now ?? Date.now;
  const runId = options.runId ?? randomUUID();
  const leaseMs = options.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  const maxPendingMs = (options.maxPendingHours ?? DEFAULT_MAX_PENDING_HOURS) * 3600 * 1000;
  const digestAfter = options.config.notifications.digestAfter;
  try {
    const ready: OutboxEntry[] = [];
    for (const entry of await outbox.pending(channel)) {
      const at = now();
      if (entry.status === 'sending' && entry.claim) {
        if (at - entry.claim.atMs < leaseMs) continue; // another run may be sending it right now
        if (await outbox.settleStaleClaim(entry.key, channel, entry.claim.runId, at)) {
          result.assumedSent[channel]++;
          logger?.warn(
            'A run died between sending and confirming an alert; taking it as sent, not sending twice',
            {
              channel,
              alertId: entry.alert.id,
              claimedBy: entry.claim.runId,
            },
          );
        }
      } else if (
        entry.status === 'pending' &&
        entry.recordedAtMs > 0 &&
        at - entry.recordedAtMs > maxPendingMs
      ) {
        if (await outbox.expire(entry.key, channel)) {
          result.expired[channel]++;
          logger?.warn('Alert pending too long; dropped instead of sent late', {
            channel,
            alertId: entry.alert.id,
          });
        }
      } else if (entry.status === 'pending') {
        ready.push(entry);
      }
    }

    const groups = new Map<object, OutboxEntry[]>();
    for (const entry of ready) {
      const route = target.route(entry.alert);
      const group = groups.get(route);
      if (group) group.push(entry);
      else groups.set(route, [entry]);
    }

    for (const [route, entries] of groups) {
      // Past digestAfter, one message for all of them; otherwise one each, oldest first.
      const batches = entries.length > digestAfter ? [entries] : entries.map((e) => [e]);
      for (let i = 0; i < batches.length; i++) {
        const batch = batches[i] ?? [];
        const outcome = await sendBatch(target, route, batch, { runId, now, options, result });
        if (outcome === 'stop') {
          const left = batches.slice(i + 1).reduce((n, b) => n + b.length, 0);
          result.deferred[channel] += left;
          break;
        }
      }
    }
  } catch (error) {
    const message = `${channel}: ${errorMessage(error)}`;
    result.errors.push(message);
    logger?.error('Delivery stopped on an outbox error; undelivered alerts stay pending', {
      channel,
      error: message,
    });
  }
}

async function sendBatch<M>(
  target: Target<M>,
  route: object,
  batch: OutboxEntry[],
  context: { runId: string; now: () => number; options: DeliverPendingAlertsOptions; result: DeliveryResult },
): Promise<'continue' | 'stop'> {
  const { runId, now, options, result } = context;
  const { outbox, logger } = options;
  const channel = target.name;
  if (Date.now() >= options.deadline.atMs) {
    result.deferred[channel] += batch.length;
    return 'stop';
  }
  const claimed: OutboxEntry[] = [];
  for (const entry of batch) {
    if (await outbox.claim(entry.key, channel, runId, now())) claimed.push(entry);
  }
  if (claimed.length === 0) return 'continue';
  const alerts = claimed.map((e) => e.alert);
  const message = batch.length > 1 ? target.renderDigest(alerts) : target.renderOne(alerts[0] as Alert);
  const ids = alerts.map((a) => a.id);
  try {
    await target.send(route, message);
  } catch (error) {
    result.failed[channel] += claimed.length;
    if (error instanceof DeliveryError) {
      for (const entry of claimed) await outbox.release(entry.key, channel, runId, error.message);
      logger?.warn('Alert not delivered; it stays pending for the next run', {
        channel,
        alertIds: ids,
        reason: error.reason,
        status: error.status,
        permanent: error.permanent,
        error: error.message,
      });
      // A refused message (400) is about this message; anything else is about the channel: stop for now.
      return error.status === 400 ? 'continue' : 'stop';
    }
    logger?.error(
      'Sending an alert ended in an unexpected error: it may have been delivered. Its claim is kept, so it ' +
        'will not be sent again (at most once)',
      { channel, alertIds: ids, error: errorMessage(error) },
    );
    return 'continue';
  }
  result.messages[channel]++;
  result.sent[channel] += claimed.length;
  for (const entry of claimed) {
    try {
      await outbox.markDelivered(entry.key, channel, { runId, nowMs: now() });
    } catch (error) {
      // Sent but not marked: the claim stays, and a later run takes it as sent after the lease.
      logger?.error('Alert sent but not marked delivered; a later run will take it as sent', {
        channel,
        alertId: entry.alert.id,
        error: errorMessage(error),
      });
    }
  }
  if (batch.length > 1) logger?.info('Sent a digest', { channel, alerts: claimed.length });
  return 'continue';
}
