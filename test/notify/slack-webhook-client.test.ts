import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SlackReceiver,
  startSlackReceiver,
  WEBHOOK_SECRET_PATH,
} from '../../functions/local/slack-receiver.ts';
import { DeliveryError } from '../../functions/notify/delivery-error.ts';
import { renderSlackAlert } from '../../functions/notify/slack-message.ts';
import {
  checkWebhookUrl,
  type NotifyLogger,
  SlackWebhookClient,
  WebhookUrlError,
} from '../../functions/notify/slack-webhook-client.ts';
import { spikeAlert } from './support/alert-fixtures.ts';

const payload = renderSlackAlert(spikeAlert(), { timeZone: 'UTC' });
const soon = () => ({ atMs: Date.now() + 30_000 });

/** Records the waits the client asks for and skips them: outcomes, not timings. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

function capturingLogger(): NotifyLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string, attributes?: Record<string, unknown>) =>
    void lines.push(`${message} ${JSON.stringify(attributes ?? {})}`);
  return { lines, info: log, warn: log, error: log };
}

let receiver: SlackReceiver;
beforeEach(async () => {
  receiver = await startSlackReceiver();
});
afterEach(async () => {
  await receiver.close();
});

describe('SlackWebhookClient', () => {
  it('posts the payload as JSON', async () => {
    const client = new SlackWebhookClient({ url: receiver.url, minIntervalMs: 0 });
    await client.post(payload, soon());
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.path).toBe(WEBHOOK_SECRET_PATH);
    expect(receiver.requests[0]?.headers['content-type']).toContain('application/json');
    expect(receiver.delivered()).toEqual([payload]);
  });

  it('honours Retry-After on 429, then delivers', async () => {
    receiver.script.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } });
    const { waits, sleep } = recordingSleep();
    const client = new SlackWebhookClient({ url: receiver.url, minIntervalMs: 0, sleep });
    await client.post(payload, soon());
    expect(receiver.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toContain(7000);
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('does not wait past the deadline for Retry-After; the failure is retryable', async () => {
    receiver.script.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '120' } });
    const client = new SlackWebhookClient({
      url: receiver.url,
      minIntervalMs: 0,
      sleep: recordingSleep().sleep,
    });
    const error = await client.post(payload, soon()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ permanent: false, status: 429 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('retries 5xx with backoff and succeeds', async () => {
    receiver.script.push({ status: 500, body: 'internal_error' }, { status: 503 });
    const { waits, sleep } = recordingSleep();
    const client = new SlackWebhookClient({ url: receiver.url, minIntervalMs: 0, sleep });
    await client.post(payload, soon());
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 503, 200]);
    // Two backoffs (the recorded sleeps do not pass time, so pacing asks again after each).
    expect(waits.filter((w) => w > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('gives up on 5xx after its attempts with a retryable error', async () => {
    receiver.fallback = { status: 500, body: 'internal_error' };
    const client = new SlackWebhookClient({
      url: receiver.url,
      minIntervalMs: 0,
      maxAttempts: 3,
      sleep: recordingSleep().sleep,
    });
    await expect(client.post(payload, soon())).rejects.toMatchObject({
      name: 'DeliveryError',
      permanent: false,
      status: 500,
    });
    expect(receiver.requests).toHaveLength(3);
  });

  it.each([
    [404, 'no_service'],
    [410, 'channel_is_archived'],
    [404, 'channel_not_found'],
  ])('treats %i %s (webhook revoked) as permanent, without retrying', async (status, body) => {
    receiver.script.push({ status, body });
    const client = new SlackWebhookClient({
      url: receiver.url,
      minIntervalMs: 0,
      sleep: recordingSleep().sleep,
    });
    const error = await client.post(payload, soon()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ permanent: true, status, reason: body });
    expect((error as Error).message).toContain('revoked');
    expect(receiver.requests).toHaveLength(1);
  });

  it('falls back to the headline alone when Slack rejects the blocks', async () => {
    receiver.script.push({ status: 400, body: 'invalid_blocks' });
    const client = new SlackWebhookClient({ url: receiver.url, minIntervalMs: 0 });
    await client.post(payload, soon());
    expect(receiver.delivered()).toEqual([{ text: payload.text }]);
  });

  it('paces messages to one webhook: it asks to wait between them', async () => {
    const { waits, sleep } = recordingSleep();
    const url = `${receiver.url}?pacing`; // its own pacing slot
    const client = new SlackWebhookClient({ url, minIntervalMs: 1000, sleep });
    await client.post(payload, soon());
    await client.post(payload, soon());
    await client.post(payload, soon());
    expect(receiver.delivered()).toHaveLength(3);
    expect(waits).toHaveLength(2);
    for (const w of waits) expect(w).toBeGreaterThan(500);
  });

  it('never reveals the webhook URL: not in errors, logs, inspect or JSON', async () => {
    const secret = 'xoxSuperSecretWebhookToken42';
    const logger = capturingLogger();
    const seen: string[] = [];
    const check = (value: unknown) => {
      const text = `${inspect(value, { depth: 10, showHidden: true })}\n${JSON.stringify(value)}\n${String(value)}`;
      seen.push(text);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('B0SECRET');
    };
    const attempt = async (client: SlackWebhookClient) => {
      const error = await client.post(payload, soon()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      check(error);
      check((error as Error).stack);
    };
    const options = { minIntervalMs: 0, maxAttempts: 2, sleep: recordingSleep().sleep, logger };
    // 404 with a body echoing the URL, 500s, and a closed port.
    receiver.script.push({ status: 404, body: `no_service for ${receiver.url}` });
    await attempt(new SlackWebhookClient({ url: receiver.url, ...options }));
    receiver.fallback = { status: 502, body: `<html>${receiver.url}</html>` };
    await attempt(new SlackWebhookClient({ url: receiver.url, ...options }));
    const closed = await startSlackReceiver();
    await closed.close();
    await attempt(new SlackWebhookClient({ url: closed.url, ...options }));
    const client = new SlackWebhookClient({ url: receiver.url, ...options });
    check(client);
    check({ client });
    expect(() => new SlackWebhookClient({ url: `not a url ${secret}` })).toThrow(DeliveryError);
    try {
      new SlackWebhookClient({ url: `not a url ${secret}` });
    } catch (error) {
      check(error);
    }
    check(logger.lines);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(seen.join('')).toContain('ECONNREFUSED');
  });
});

describe('checkWebhookUrl', () => {
  it('accepts Slack webhooks', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXX';
    expect(checkWebhookUrl(url)).toBe(url);
  });

  it.each([
    'http://hooks.slack.com/services/T000/B000/XXXX',
    'https://hooks.slack.com.evil.example/services/T000/B000/XXXX',
    'https://evil.example/services/T000/B000/XXXX',
    'https://user:pw@hooks.slack.com/services/T000/B000/XXXX',
    'https://hooks.slack.com:8443/services/T000/B000/XXXX',
    'http://127.0.0.1:9999/services/T000/B000/XXXX',
    'not a url',
  ])('refuses %s without echoing it', (url) => {
    let error: unknown;
    try {
      checkWebhookUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookUrlError);
    expect((error as Error).message).not.toContain('XXXX');
    expect((error as Error).message).not.toContain('evil');
  });

  it('accepts loopback receivers only when local webhooks are allowed', () => {
    const local = 'http://127.0.0.1:9999/services/T000/B000/XXXX';
    expect(() => checkWebhookUrl(local)).toThrow(/loopback/);
    expect(checkWebhookUrl(local, { allowLocal: true })).toBe(local);
    expect(() => checkWebhookUrl('http://example.com/x', { allowLocal: true })).toThrow(WebhookUrlError);
  });
});
