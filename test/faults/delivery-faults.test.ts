// The channels failing: a revoked Slack webhook (404 no_service, 410) and SNS errors (500, and an
// authorization error). Each channel is on its own: email goes out while Slack is revoked and the other way
// round; what failed stays pending and goes out exactly once when the channel works again. The run still
// completes (its hours are evaluated), with DeliveryFailures counting the alerts not delivered.
import { afterEach, describe, expect, it } from 'vitest';
import { SentinelMetric } from '../../functions/deployment-contract.ts';
import { type FaultRun, hoursFrom, logLinesMatching } from './support/fault-services.ts';
import {
  committedAcross,
  expectEachPlantedAlertOnce,
  hour,
  K0,
  mark,
  PRIMED_TABLE,
  plantedMessagesSince,
  plantedOutbox,
  runAt,
  SPIKE_HOUR,
} from './support/fault-timeline.ts';
import { secretsIn } from './support/no-secrets.ts';
import { usePrimedFaultServices } from './support/primed-fault-services.ts';

const services = usePrimedFaultServices();

afterEach(() => {
  services.slack.fallback = { status: 200, body: 'ok' };
  services.slack.script = [];
  services.sns.failAll = undefined;
  services.sns.script = [];
});

/** The "not delivered" line of a channel, which must say why and carry no secret. */
function notDeliveredLine(run: FaultRun, channel: 'slack' | 'email'): string {
  const lines = logLinesMatching(run.logs, 'warn', /Alert not delivered/).filter(
    (l) => l.attributes?.channel === channel,
  );
  expect(lines.length).toBeGreaterThan(0);
  const text = JSON.stringify(lines[0]);
  expect(secretsIn(text)).toEqual([]);
  return text;
}

describe('the Slack webhook is revoked', () => {
  it.each([
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ] as const)(
    '%i %s: email goes out, Slack keeps the alert pending and sends it once when fixed',
    async (status, body) => {
      const table = await services.cloneTable(PRIMED_TABLE, `slack-${status}`);
      const since = mark(services);
      services.slack.fallback = { status, body };
      const revoked = await services.run({ table, now: runAt(K0 + 6) });
      expect(revoked.report.outcome).toBe('completed');
      expect(revoked.handlerThrows).toBe(false);
      expect(revoked.delivery?.failed.slack).toBeGreaterThan(0);
      expect(revoked.metrics[SentinelMetric.deliveryFailures]).toBeGreaterThan(0);
      expect(revoked.metrics[`${SentinelMetric.alertsSent}.email`]).toBeGreaterThan(0);
      const line = notDeliveredLine(revoked, 'slack');
      expect(line).toContain(`HTTP ${status} ${body}`);
      expect(line).toMatch(/revoked/);
      expect(line).toContain('"permanent":true');
      // One refused post stops the channel for this run: a revoked webhook is not hammered.
      expect(services.slack.requests.slice(since.slack)).toHaveLength(1);
      expect(plantedMessagesSince(services, since)).toMatchObject({ slack: [], email: [expect.any(String)] });
      expect(await plantedOutbox(services, table)).toMatchObject([
        { alert: { type: 'spike', bucketStart: SPIKE_HOUR }, slackStatus: 'pending', emailStatus: 'sent' },
      ]);

      // Still revoked an hour later: tried once more, still pending, the spike's email not sent again.
      const still = await services.run({ table, now: runAt(K0 + 7) });
      expect(still.delivery?.failed.slack).toBeGreaterThan(0);
      expect(plantedMessagesSince(services, since).slack).toEqual([]);
      const spikeEmails = plantedMessagesSince(services, since).email.filter((s) => !/resolved/i.test(s));
      expect(spikeEmails).toHaveLength(1);

      // A new webhook: the pending alert goes out, once.
      services.slack.fallback = { status: 200, body: 'ok' };
      const fixed = await services.run({ table, now: runAt(K0 + 8) });
      expect(fixed.report.outcome).toBe('completed');
      expect(fixed.metrics[SentinelMetric.deliveryFailures]).toBe(0);
      expect(committedAcross([revoked, still, fixed])).toEqual(hoursFrom(hour(K0), hour(K0 + 7)));
      await expectEachPlantedAlertOnce(services, table, since);
    },
  );
});

describe('SNS refuses to publish', () => {
  it.each([
    [500, 'InternalError', 'Internal Error', false],
    [
      403,
      'AuthorizationError',
      'User: arn:aws:sts::123456789012:assumed-role/sentinel/fn is not authorized to perform: SNS:Publish',
      true,
    ],
  ] as const)(
    '%i %s: Slack goes out, email stays pending and is sent once when SNS works',
    async (status, code, message, permanent) => {
      const table = await services.cloneTable(PRIMED_TABLE, `sns-${status}`);
      const since = mark(services);
      services.sns.failAll = { status, code, message };
      const failing = await services.run({ table, now: runAt(K0 + 6) });
      expect(failing.report.outcome).toBe('completed');
      expect(failing.delivery?.failed.email).toBeGreaterThan(0);
      expect(failing.metrics[SentinelMetric.deliveryFailures]).toBeGreaterThan(0);
      const line = notDeliveredLine(failing, 'email');
      expect(line).toContain(`HTTP ${status}`);
      expect(line).toContain(code);
      expect(line).toContain(`"permanent":${permanent}`);
      expect(plantedMessagesSince(services, since)).toMatchObject({ slack: [expect.any(String)], email: [] });
      expect(await plantedOutbox(services, table)).toMatchObject([
        { alert: { type: 'spike' }, slackStatus: 'sent', emailStatus: 'pending' },
      ]);

      services.sns.failAll = undefined;
      const fixed = await services.run({ table, now: runAt(K0 + 7) });
      expect(fixed.report.outcome).toBe('completed');
      await expectEachPlantedAlertOnce(services, table, since);
    },
  );

  it('a 500 the SDK retries through: delivered the same run, once', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'sns-500-once');
    const since = mark(services);
    services.sns.script = [{ status: 500, code: 'InternalError', message: 'Internal Error' }];
    const run = await services.run({ table, now: runAt(K0 + 6) });
    expect(run.report.outcome).toBe('completed');
    expect(run.delivery?.failed.email).toBe(0);
    await expectEachPlantedAlertOnce(services, table, since);
  });
});
