// Scheduled runs end to end, in process but over real sockets: the usage API stand-in serving a simulated
// organization with a planted runaway key, dynalite, a Slack receiver and the SNS stand-in, wired by
// assembleRun as the Lambda handler wires them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import { STAND_IN_ADMIN_KEY } from '../../functions/local/usage-api-stand-in.ts';
import { RunStateStore } from '../../functions/state/run-state-store.ts';
import { type LocalServices, messagesAbout, startLocalServices } from './support/local-services.ts';
import { PLANTED_KEY_ID, PLANTED_KEY_NAME, withPlantedSeries } from './support/planted-usage.ts';

const baseOrg = simulateOrganization({ seed: 11, keys: 12, weeks: 3, incidents: false });
/** Hour k of the simulation (unix s). */
const hour = (k: number): number => baseOrg.start + k * HOUR_SECONDS;
/** A scheduled run's clock in hour k: a quarter past, so hour k - 1 is closed and past the grace. */
const runAt = (k: number): number => hour(k) + 15 * 60;
/** The first scheduled run: a week and a day into the simulation, so priming sees a full week. */
const K0 = 8 * 24;
/** The planted key runs away for two hours. */
const SPIKE_HOURS = [hour(K0 + 3), hour(K0 + 4)];
const org = withPlantedSeries(baseOrg, { isSpike: (h) => SPIKE_HOURS.includes(h) });

let services: LocalServices;

beforeAll(async () => {
  services = await startLocalServices(org);
});

afterAll(async () => {
  await services?.stop();
});

const aboutPlantedKey = () => messagesAbout(services, PLANTED_KEY_NAME, PLANTED_KEY_ID);

describe('hour by hour over a planted incident, then catch-up and failure (one table, in order)', () => {
  const table = 'hourly';

  it('primes a fresh table with a week of history and alerts on nothing from it', async () => {
    await services.newTable(table);
    const report = await services.run({ table, now: runAt(K0) });
    expect(report.outcome).toBe('completed');
    expect(report.hoursEvaluated).toBe(168);
    expect(report.firstHour).toBe(hour(K0 - 168));
    expect(report.lastHour).toBe(hour(K0 - 1));
    expect(await services.watermark(table)).toBe(hour(K0 - 1));
    expect(report.alerts.filter((a) => a.apiKeyId === PLANTED_KEY_ID)).toEqual([]);
  });

  it('sends one spike message per channel for the runaway key, then one resolved notice', async () => {
    const alertsOfPlantedKey: string[] = [];
    for (let k = K0 + 1; k <= K0 + 12; k++) {
      const report = await services.run({ table, now: runAt(k) });
      expect(report.outcome, `run at hour ${k}`).toBe('completed');
      expect(report.hoursEvaluated).toBe(1);
      expect(report.lastHour).toBe(hour(k - 1));
      for (const alert of report.alerts) {
        if (alert.apiKeyId === PLANTED_KEY_ID) alertsOfPlantedKey.push(`${alert.type}@${alert.bucketStart}`);
      }
    }
    // Opened by the first runaway hour, closed once usage is back to normal for a while.
    expect(alertsOfPlantedKey[0]).toBe(`spike@${SPIKE_HOURS[0]}`);
    expect(alertsOfPlantedKey.filter((a) => a.startsWith('spike'))).toHaveLength(1);
    expect(alertsOfPlantedKey.filter((a) => a.startsWith('resolved'))).toHaveLength(1);
    expect(alertsOfPlantedKey.at(-1)).toMatch(/^resolved@/);

    const { slack, email } = aboutPlantedKey();
    expect(slack).toHaveLength(2);
    expect(email).toHaveLength(2);
    const [spikeSlack, resolvedSlack] = slack;
    expect(spikeSlack?.text).toBeTruthy();
    expect(spikeSlack?.text).not.toMatch(/resolved/i);
    expect(resolvedSlack?.text).toMatch(/resolved/i);
    expect(email[0]?.subject).not.toMatch(/resolved/i);
    expect(email[1]?.subject).toMatch(/resolved/i);
    // Every message names the key and its project.
    for (const payload of slack) expect(JSON.stringify(payload)).toContain(PLANTED_KEY_NAME);
    for (const message of email) expect(message.message).toContain(PLANTED_KEY_NAME);
  });

  it('catches up after a pause: one run evaluates the five missed hours, oldest first', async () => {
    const before = await services.watermark(table);
    expect(before).toBe(hour(K0 + 11));
    const seen: number[] = [];
    const report = await services.run({ table, now: runAt(K0 + 17), onEvaluate: (h) => seen.push(h.start) });
    expect(report.outcome).toBe('completed');
    expect(report.hoursEvaluated).toBe(5);
    expect(seen).toEqual([12, 13, 14, 15, 16].map((d) => hour(K0 + d)));
    expect(report.firstHour).toBe(hour(K0 + 12));
    expect(report.lastHour).toBe(hour(K0 + 16));
    expect(await services.watermark(table)).toBe(hour(K0 + 16));
  });

  it('leaves every hour pending when the API refuses the key, and the next run evaluates them', async () => {
    const sentBefore = services.slack.requests.length + services.sns.published.length;
    services.api.setFaults([{ kind: 'status', status: 401, message: 'Incorrect API key provided.' }]);
    const failed = await services.run({ table, now: runAt(K0 + 20) });
    expect(failed.outcome).toBe('failed');
    expect(failed.hoursEvaluated).toBe(0);
    expect(failed.hoursLeftPending).toBe(3);
    expect(await services.watermark(table)).toBe(hour(K0 + 16));

    services.api.setFaults([]);
    const seen: number[] = [];
    const recovered = await services.run({
      table,
      now: runAt(K0 + 20),
      onEvaluate: (h) => seen.push(h.start),
    });
    expect(recovered.outcome).toBe('completed');
    expect(seen).toEqual([17, 18, 19].map((d) => hour(K0 + d)));
    expect(await services.watermark(table)).toBe(hour(K0 + 19));
    // Nothing about the planted key was pending, so nothing new went out.
    expect(services.slack.requests.length + services.sns.published.length).toBe(sentBefore);
  });

  it('leaves the hours pending when the API answers 500 until the run runs out of time', async () => {
    services.api.setFaults([{ kind: 'server-error', status: 500 }]);
    const failed = await services.run({ table, now: runAt(K0 + 21), budgetMs: 3_000 });
    expect(failed.outcome).toBe('failed');
    expect(failed.hoursEvaluated).toBe(0);
    expect(await services.watermark(table)).toBe(hour(K0 + 19));

    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 21) });
    expect(recovered.outcome).toBe('completed');
    expect(recovered.hoursEvaluated).toBe(1);
    expect(await services.watermark(table)).toBe(hour(K0 + 20));
  });

  it('never hands the admin key or the webhook URL to its logger', () => {
    const logged = JSON.stringify(services.logs);
    expect(logged).not.toContain(STAND_IN_ADMIN_KEY);
    expect(logged).not.toContain(new URL(services.slack.url).pathname);
  });
});

describe('duplicate and overlapping runs', () => {
  /** A table primed up to hour K0 + 2, so the next run evaluates the planted key's first runaway hour. */
  async function primedTable(name: string): Promise<string> {
    const table = await services.newTable(name);
    const primed = await services.run({ table, now: runAt(K0 + 3) });
    expect(primed.outcome).toBe('completed');
    expect(await services.watermark(table)).toBe(hour(K0 + 2));
    return table;
  }

  const spikeMessagesSince = (slackBefore: number, emailBefore: number) => ({
    slack: services.slack
      .delivered()
      .slice(slackBefore)
      .filter((json) => JSON.stringify(json).includes(PLANTED_KEY_NAME)),
    email: services.sns.published
      .slice(emailBefore)
      .filter((m) => (m.message ?? '').includes(PLANTED_KEY_NAME)),
  });

  it('the same invocation twice at once (a retried Lambda event) sends each alert once', async () => {
    const table = await primedTable('duplicate-same-id');
    const slackBefore = services.slack.delivered().length;
    const emailBefore = services.sns.published.length;
    const [a, b] = await Promise.all([
      services.run({ table, now: runAt(K0 + 4), runId: 'retried-event' }),
      services.run({ table, now: runAt(K0 + 4), runId: 'retried-event' }),
    ]);
    // Both may hold the lease (it is theirs), but only one can move the watermark past the hour.
    expect([a.outcome, b.outcome]).toContain('completed');
    expect(await services.watermark(table)).toBe(hour(K0 + 3));
    const sent = spikeMessagesSince(slackBefore, emailBefore);
    expect(sent.slack).toHaveLength(1);
    expect(sent.email).toHaveLength(1);

    // And the same event once more, later: nothing is pending, nothing is sent.
    const again = await services.run({ table, now: runAt(K0 + 4), runId: 'retried-event' });
    expect(again.hoursEvaluated).toBe(0);
    const after = spikeMessagesSince(slackBefore, emailBefore);
    expect(after.slack).toHaveLength(1);
    expect(after.email).toHaveLength(1);
  });

  it('two different runs at once evaluate the hour once and send each alert once', async () => {
    const table = await primedTable('duplicate-two-runs');
    const slackBefore = services.slack.delivered().length;
    const emailBefore = services.sns.published.length;
    const reports = await Promise.all([
      services.run({ table, now: runAt(K0 + 4), runId: 'run-a' }),
      services.run({ table, now: runAt(K0 + 4), runId: 'run-b' }),
    ]);
    expect(reports.reduce((sum, r) => sum + r.hoursEvaluated, 0)).toBe(1);
    expect(await services.watermark(table)).toBe(hour(K0 + 3));
    const sent = spikeMessagesSince(slackBefore, emailBefore);
    expect(sent.slack).toHaveLength(1);
    expect(sent.email).toHaveLength(1);
  });

  it('an alert Slack refused is sent by the next run, once, and email is not sent again', async () => {
    const table = await primedTable('slack-down');
    const slackBefore = services.slack.delivered().length;
    const emailBefore = services.sns.published.length;
    services.slack.fallback = { status: 500, body: 'internal_error' };
    try {
      // A short budget: the client's retries give up at the deadline instead of backing off for long.
      const down = await services.run({ table, now: runAt(K0 + 4), budgetMs: 2_500 });
      expect(down.hoursEvaluated).toBe(1);
      expect(down.delivery?.failed.slack).toBeGreaterThan(0);
    } finally {
      services.slack.fallback = { status: 200, body: 'ok' };
    }
    expect(spikeMessagesSince(slackBefore, emailBefore)).toMatchObject({ slack: [], email: [{}] });

    const next = await services.run({ table, now: runAt(K0 + 5) });
    expect(next.outcome).toBe('completed');
    const sent = spikeMessagesSince(slackBefore, emailBefore);
    expect(sent.slack).toHaveLength(1);
    expect(sent.email).toHaveLength(1);
  });

  it('a run that starts while another holds the lease is skipped and changes nothing', async () => {
    const table = await primedTable('lease');
    // The first run's usage read is slow, so it is still at work when the second one starts.
    services.api.setFaults([{ kind: 'slow', delayMs: 1_500, times: 1, path: '/organization/usage' }]);
    const requestsBefore = services.api.requests.length;
    const first = services.run({ table, now: runAt(K0 + 4), runId: 'holder' });
    await until(() => services.api.requests.slice(requestsBefore).some((r) => r.fault === 'slow'));
    const second = await services.run({ table, now: runAt(K0 + 4), runId: 'latecomer' });
    expect(second.outcome).toBe('skipped');
    expect(second.hoursEvaluated).toBe(0);
    expect(await services.watermark(table)).toBe(hour(K0 + 2));

    const held = await first;
    expect(held.outcome).toBe('completed');
    expect(held.hoursEvaluated).toBe(1);
    expect(await services.watermark(table)).toBe(hour(K0 + 3));
    // The lease is given back: a later run is not skipped.
    const later = await services.run({ table, now: runAt(K0 + 5), runId: 'next-hour' });
    expect(later.outcome).toBe('completed');
    expect(await new RunStateStore(services.client, table).acquireLease('probe', Date.now(), 1)).toBe(true);
  });
});

/** Waits for a condition that the code under test makes true; polls, asserts nothing about time. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('the awaited condition never became true');
}
