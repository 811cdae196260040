// The outbox and delivery end to end: DynamoDB through dynalite, Slack and SNS as local HTTP servers.
import { SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import type { Alert } from '../../functions/core/alert.ts';
import { type SlackReceiver, startSlackReceiver } from '../../functions/local/slack-receiver.ts';
import { startSnsReceiver, LOCAL_TOPIC_ARN as TEST_TOPIC_ARN } from '../../functions/local/sns-stand-in.ts';
import { AlertOutbox, OUTBOX_TTL_SECONDS, outboxKey } from '../../functions/notify/alert-outbox.ts';
import {
  DEFAULT_CLAIM_LEASE_MS,
  type DeliverPendingAlertsOptions,
  type DeliveryOutbox,
  deliverPendingAlerts,
} from '../../functions/notify/deliver-alerts.ts';
import { checkBlockKitLimits, type SlackPayload } from '../../functions/notify/slack-message.ts';
import { type SlackChannel, SlackWebhookClient } from '../../functions/notify/slack-webhook-client.ts';
import { SnsPublisher } from '../../functions/notify/sns-publisher.ts';
import { useLocalDynamoDb } from '../support/local-dynamodb.ts';
import { manySpikes, resolvedAlert, SPIKE_HOUR, spikeAlert } from './support/alert-fixtures.ts';

const dynamo = useLocalDynamoDb();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const T0 = (SPIKE_HOUR + 3600 + 600) * 1000; // the run ten minutes after the hour closed

function capturingLogger() {
  const lines: string[] = [];
  const log = (message: string, attributes?: Record<string, unknown>) =>
    void lines.push(`${message} ${JSON.stringify(attributes ?? {})}`);
  return { lines, info: log, warn: log, error: log };
}

async function setup(configInput: Record<string, unknown> = {}) {
  const tableName = await dynamo.freshTable('state');
  const config = parseConfig({
    ...configInput,
    notifications: { timeZone: 'Europe/Berlin', ...(configInput.notifications as object) },
  });
  let clock = T0;
  const now = () => clock;
  const outbox = new AlertOutbox({ client: dynamo.client, tableName, config, now });
  const slackReceiver = await startSlackReceiver();
  const snsReceiver = await startSnsReceiver();
  cleanups.push(
    () => slackReceiver.close(),
    () => snsReceiver.close(),
  );
  const noWait = async () => {};
  const slack = new SlackWebhookClient({
    url: slackReceiver.url,
    minIntervalMs: 0,
    maxAttempts: 2,
    sleep: noWait,
  });
  // The endpoint is set here, in a test, only: production clients resolve it the SDK's normal way.
  const snsClient = new SNSClient({
    endpoint: snsReceiver.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  cleanups.push(async () => snsClient.destroy());
  const email = new SnsPublisher({ topicArn: TEST_TOPIC_ARN, client: snsClient });
  const logger = capturingLogger();
  const deliver = (overrides: Partial<DeliverPendingAlertsOptions> = {}) =>
    deliverPendingAlerts({
      outbox,
      channels: { slack, email },
      config,
      deadline: { atMs: Date.now() + 30_000 },
      logger,
      now,
      ...overrides,
    });
  return {
    tableName,
    config,
    outbox,
    slack,
    email,
    slackReceiver,
    snsReceiver,
    logger,
    deliver,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const slackTexts = (r: SlackReceiver) => r.delivered().map((p) => (p as SlackPayload).text);
const expectWithinLimits = (r: SlackReceiver) => {
  for (const payload of r.delivered()) expect(checkBlockKitLimits(payload)).toEqual([]);
};

describe('AlertOutbox.record', () => {
  it('writes each alert once under its hour, with a 30-day TTL', async () => {
    const t = await setup();
    const alert = spikeAlert();
    expect(await t.outbox.record([alert])).toEqual({ recorded: 1, duplicates: 0, muted: 0 });
    expect(await t.outbox.record([alert])).toEqual({ recorded: 0, duplicates: 1, muted: 0 });
    expect(outboxKey(alert)).toBe(`00${SPIKE_HOUR}#${alert.id}`);
    const pending = await t.outbox.pending('slack');
    expect(pending.map((e) => e.alert)).toEqual([alert]);
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { Item } = await dynamo.client.send(
      new GetItemCommand({
        TableName: t.tableName,
        Key: { pk: { S: 'outbox' }, sk: { S: outboxKey(alert) } },
      }),
    );
    expect(Number(Item?.expiresAt?.N)).toBe(Math.floor(T0 / 1000) + OUTBOX_TTL_SECONDS);
  });

  it('lists pending entries oldest hour first', async () => {
    const t = await setup();
    const later = spikeAlert({ id: 'later', bucketStart: SPIKE_HOUR + 7200 });
    const earlier = spikeAlert({ id: 'earlier', bucketStart: SPIKE_HOUR - 7200 });
    await t.outbox.record([later, spikeAlert(), earlier]);
    expect((await t.outbox.pending('email')).map((e) => e.alert.id)).toEqual([
      'earlier',
      spikeAlert().id,
      'later',
    ]);
  });
});

describe('deliverPendingAlerts', () => {
  it('delivers each alert once to Slack and email with its facts; a second pass sends nothing', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert(), resolvedAlert({ bucketStart: SPIKE_HOUR + 1 })]);
    const first = await t.deliver();
    expect(first.sent).toEqual({ slack: 2, email: 2 });
    expect(first.failed).toEqual({ slack: 0, email: 0 });

    const [spike, resolved] = t.slackReceiver.delivered() as SlackPayload[];
    const spikeText = JSON.stringify(spike);
    for (const fact of [
      'batch-worker',
      'Checkout &lt;prod&gt; &amp; co',
      'sk-proj-****abcd',
      '12.4× normal',
      '$6.20',
      'gpt-4o-2024-08-06',
      'https://platform.openai.com/usage',
      'https://platform.openai.com/api-keys',
    ]) {
      expect(spikeText).toContain(fact);
    }
    expect(spikeText).toMatch(/[▁▂▃▄▅▆▇]+█/);
    expect(spike?.text.toLowerCase()).not.toContain('resolved');
    expect(resolved?.text).toMatch(/^Resolved/);
    expectWithinLimits(t.slackReceiver);

    const [spikeEmail, resolvedEmail] = t.snsReceiver.published;
    expect(spikeEmail?.topicArn).toBe(TEST_TOPIC_ARN);
    expect(spikeEmail?.subject).toContain('12.4x normal');
    expect(spikeEmail?.subject?.toLowerCase()).not.toContain('resolved');
    expect(spikeEmail?.message).toContain('gpt-4o-2024-08-06');
    expect(spikeEmail?.attributes.severity).toEqual({ dataType: 'String', stringValue: 'high' });
    expect(spikeEmail?.attributes.project_id).toEqual({ dataType: 'String', stringValue: 'proj_abc' });
    expect(resolvedEmail?.subject).toContain('Resolved');
    expect(resolvedEmail?.attributes.type).toEqual({ dataType: 'String', stringValue: 'resolved' });

    const second = await t.deliver();
    expect(second.sent).toEqual({ slack: 0, email: 0 });
    await t.outbox.record([spikeAlert()]); // the same hour evaluated again
    await t.deliver();
    expect(t.slackReceiver.delivered()).toHaveLength(2);
    expect(t.snsReceiver.published).toHaveLength(2);
    expect((await t.outbox.pending('slack')).length).toBe(0);
  });

  it('retries a failed delivery on the next pass and sends it once', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    t.slackReceiver.fallback = { status: 500, body: 'internal_error' };
    const first = await t.deliver();
    expect(first.failed.slack).toBe(1);
    expect(first.sent.email).toBe(1);
    const [entry] = await t.outbox.pending('slack');
    expect(entry?.status).toBe('pending');
    expect(entry?.lastError).toContain('HTTP 500');

    t.slackReceiver.fallback = { status: 200, body: 'ok' };
    const second = await t.deliver();
    expect(second.sent).toEqual({ slack: 1, email: 0 });
    expect(t.slackReceiver.delivered()).toHaveLength(1);
    expect(t.snsReceiver.published).toHaveLength(1);
    expect(await t.outbox.pending('slack')).toEqual([]);
  });

  it('sends once when the run dies between the send and the delivered mark', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    // The mark after a successful send fails, as when the process is killed right there.
    const o = t.outbox;
    const crashingOutbox: DeliveryOutbox = {
      pending: o.pending.bind(o),
      claim: o.claim.bind(o),
      release: o.release.bind(o),
      settleStaleClaim: o.settleStaleClaim.bind(o),
      expire: o.expire.bind(o),
      markDelivered: async () => {
        throw new Error('killed before the mark');
      },
    };
    const first = await t.deliver({ outbox: crashingOutbox });
    expect(first.sent).toEqual({ slack: 1, email: 1 });
    expect(t.slackReceiver.delivered()).toHaveLength(1);

    // A run soon after: the claim may belong to a run still at work; nothing is sent.
    t.advance(60_000);
    expect((await t.deliver()).sent).toEqual({ slack: 0, email: 0 });
    // After the lease: taken as sent, flagged unconfirmed, never sent twice.
    t.advance(DEFAULT_CLAIM_LEASE_MS);
    const third = await t.deliver();
    expect(third.sent).toEqual({ slack: 0, email: 0 });
    expect(third.assumedSent).toEqual({ slack: 1, email: 1 });
    const entry = await t.outbox.get(outboxKey(spikeAlert()), 'slack');
    expect(entry).toMatchObject({ status: 'sent', unconfirmed: true });
    expect(await t.deliver()).toMatchObject({
      sent: { slack: 0, email: 0 },
      assumedSent: { slack: 0, email: 0 },
    });
    expect(t.slackReceiver.delivered()).toHaveLength(1);
    expect(t.snsReceiver.published).toHaveLength(1);
    expect(t.logger.lines.join('\n')).toContain('taking it as sent');
  });

  it('sends once when a send succeeds and then throws something unexpected', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    const sendsThenThrows: SlackChannel = {
      post: async (payload, deadline) => {
        await t.slack.post(payload, deadline);
        throw new Error('socket hang up after the answer');
      },
    };
    const first = await t.deliver({ channels: { slack: sendsThenThrows } });
    expect(first.failed.slack).toBe(1);
    t.advance(DEFAULT_CLAIM_LEASE_MS + 1);
    const later = await t.deliver({ channels: { slack: t.slack } });
    expect(later.sent.slack).toBe(0);
    expect(later.assumedSent.slack).toBe(1);
    expect(t.slackReceiver.delivered()).toHaveLength(1);
  });

  it('sends each alert once when two passes run at the same time', async () => {
    const t = await setup({ notifications: { digestAfter: 10 } });
    await t.outbox.record(manySpikes(6));
    const [a, b] = await Promise.all([t.deliver({ runId: 'run-a' }), t.deliver({ runId: 'run-b' })]);
    expect((a?.sent.slack ?? 0) + (b?.sent.slack ?? 0)).toBe(6);
    expect((a?.sent.email ?? 0) + (b?.sent.email ?? 0)).toBe(6);
    expect(t.slackReceiver.delivered()).toHaveLength(6);
    expect(new Set(slackTexts(t.slackReceiver)).size).toBe(6);
    expect(t.snsReceiver.published).toHaveLength(6);
  });

  it('treats a revoked webhook as permanent, keeps the alerts pending, and still emails them', async () => {
    const t = await setup();
    await t.outbox.record(manySpikes(3));
    t.slackReceiver.fallback = { status: 404, body: 'no_service' };
    const result = await t.deliver();
    expect(t.slackReceiver.requests).toHaveLength(1); // no hammering of a revoked webhook
    expect(result.failed.slack).toBe(1);
    expect(result.deferred.slack).toBe(2);
    expect(result.sent.email).toBe(3);
    expect((await t.outbox.pending('slack')).map((e) => e.status)).toEqual(['pending', 'pending', 'pending']);
    const log = t.logger.lines.join('\n');
    expect(log).toContain('revoked');
    expect(log).not.toContain('xoxSuperSecretWebhookToken42');
    expect(JSON.stringify(result)).not.toContain('xoxSuperSecretWebhookToken42');

    t.slackReceiver.fallback = { status: 200, body: 'ok' }; // a new webhook configured
    expect((await t.deliver()).sent).toEqual({ slack: 3, email: 0 });
  });

  it('delivers to Slack while SNS is down, and email catches up on the next pass', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    t.snsReceiver.failAll = { status: 500, code: 'InternalError', message: 'down' };
    const first = await t.deliver();
    expect(first.sent).toEqual({ slack: 1, email: 0 });
    expect(first.failed.email).toBe(1);
    t.snsReceiver.failAll = undefined;
    expect((await t.deliver()).sent).toEqual({ slack: 0, email: 1 });
    expect(t.snsReceiver.published).toHaveLength(1);
    expect(t.slackReceiver.delivered()).toHaveLength(1);
  });

  it('delivers email while the Slack webhook is unreachable', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    const gone = await startSlackReceiver();
    await gone.close();
    const unreachable = new SlackWebhookClient({ url: gone.url, minIntervalMs: 0, maxAttempts: 1 });
    const result = await t.deliver({ channels: { slack: unreachable, email: t.email } });
    expect(result.sent).toEqual({ slack: 0, email: 1 });
    expect(result.failed.slack).toBe(1);
  });

  it('turns alerts past digestAfter into one digest per channel', async () => {
    const t = await setup({ notifications: { digestAfter: 3 } });
    await t.outbox.record(manySpikes(12));
    const result = await t.deliver({ digestTop: 5 });
    expect(result.sent).toEqual({ slack: 12, email: 12 });
    expect(result.messages).toEqual({ slack: 1, email: 1 });
    const [digest] = t.slackReceiver.delivered() as SlackPayload[];
    expect(digest?.text).toMatch(/^12 usage alerts/);
    expect(JSON.stringify(digest)).toContain('and 7 more');
    expectWithinLimits(t.slackReceiver);
    expect(t.snsReceiver.published[0]?.attributes.type?.dataType).toBe('String.Array');
    expect(await t.outbox.pending('slack')).toEqual([]);
  });

  it('sends alerts one by one up to digestAfter', async () => {
    const t = await setup({ notifications: { digestAfter: 3 } });
    await t.outbox.record(manySpikes(3));
    expect((await t.deliver()).messages).toEqual({ slack: 3, email: 3 });
  });

  it('records a muted alert but never sends it', async () => {
    const t = await setup({
      mutes: [{ projectId: 'proj_1', until: '2025-03-05', reason: 'load test' }],
    });
    const [a0, a1] = manySpikes(2);
    const expiredMute = spikeAlert({
      id: 'after-mute',
      projectId: 'proj_1',
      bucketStart: Date.UTC(2025, 2, 6) / 1000,
    });
    const recorded = await t.outbox.record([a0 as Alert, a1 as Alert, expiredMute]);
    expect(recorded).toEqual({ recorded: 3, duplicates: 0, muted: 1 });
    const muted = await t.outbox.get(outboxKey(a1 as Alert), 'slack');
    expect(muted).toMatchObject({ status: 'muted', alert: { muted: true } });
    const result = await t.deliver();
    expect(result.sent).toEqual({ slack: 2, email: 2 });
    const sent = JSON.stringify(t.slackReceiver.delivered());
    expect(sent).toContain('Project 0');
    expect(sent).not.toContain('Project 1 ');
  });

  it('keeps recovery notices unsent when they are turned off', async () => {
    const t = await setup({ notifications: { recoveryNotices: false } });
    await t.outbox.record([spikeAlert(), resolvedAlert()]);
    expect((await t.deliver()).sent).toEqual({ slack: 1, email: 1 });
    expect(slackTexts(t.slackReceiver)[0]).toMatch(/^Token spike/);
  });

  it('routes a project to its own webhook through forProject', async () => {
    const t = await setup();
    const other = await startSlackReceiver('/services/T1/B1/other');
    cleanups.push(() => other.close());
    const otherClient = new SlackWebhookClient({ url: other.url, minIntervalMs: 0 });
    const routed: SlackChannel = {
      post: (payload, deadline) => t.slack.post(payload, deadline),
      forProject: (projectId) => (projectId === 'proj_1' ? otherClient : undefined),
    };
    await t.outbox.record(manySpikes(3));
    expect((await t.deliver({ channels: { slack: routed } })).sent.slack).toBe(3);
    expect(JSON.stringify(other.delivered())).toContain('Project 1');
    expect(other.delivered()).toHaveLength(1);
    expect(t.slackReceiver.delivered()).toHaveLength(2);
  });

  it('leaves everything pending when the deadline has passed', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    const result = await t.deliver({ deadline: { atMs: Date.now() - 1 } });
    expect(result.deferred).toEqual({ slack: 1, email: 1 });
    expect(t.slackReceiver.requests).toHaveLength(0);
    expect((await t.deliver()).sent).toEqual({ slack: 1, email: 1 });
  });

  it('drops alerts that waited too long instead of sending them late', async () => {
    const t = await setup();
    await t.outbox.record([spikeAlert()]);
    t.advance(73 * 3600 * 1000);
    const result = await t.deliver();
    expect(result.expired).toEqual({ slack: 1, email: 1 });
    expect(t.slackReceiver.requests).toHaveLength(0);
  });
});
