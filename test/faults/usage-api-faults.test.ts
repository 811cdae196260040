// The usage API misbehaving: rate limits for minutes, 5xx bursts, answers slower than the request timeout,
// cut-off bodies and schema drift. Each scenario replays the runaway key's hours on a copy of a primed
// table, with the fault around the runs that would evaluate them, then lets it clear. Checked each time:
// every hour is evaluated exactly once in the end, the spike goes out once per channel, the log names the
// problem (and no secret), and the outcome is the one the alarms expect.
import { describe, expect, it } from 'vitest';
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
  runAt,
  stopLine,
} from './support/fault-timeline.ts';
import { usePrimedFaultServices } from './support/primed-fault-services.ts';

const USAGE = '/organization/usage';
/** Short timeouts and backoffs for the scenarios that swap in their own usage source. */
const QUICK = { requestTimeoutMs: 300, minAttemptMs: 300, backoff: { baseMs: 20, maxMs: 60 } };

const services = usePrimedFaultServices();

const usageReads = (from: number) =>
  services.api.requests.slice(from).filter((r) => r.path === '/organization/usage/completions');

/** A run that could not evaluate: nothing advanced, the handler throws, RunSucceeded 0. */
function expectFailedNothingAdvanced(run: FaultRun, pending: number) {
  expect(run.report.outcome).toBe('failed');
  expect(run.handlerThrows).toBe(true);
  expect(run.report.hoursEvaluated).toBe(0);
  expect(run.report.hoursLeftPending).toBe(pending);
  expect(run.metrics[SentinelMetric.runSucceeded]).toBe(0);
  expect(run.metrics[SentinelMetric.hoursEvaluated]).toBe(0);
}

/**
 * After the fault: the runs together evaluated K0 .. K0 + 5 exactly once, the watermark is at the last
 * closed hour, and the spike was recorded once and delivered once per channel.
 */
async function expectRecovered(table: string, runs: FaultRun[], since: ReturnType<typeof mark>) {
  expect(committedAcross(runs)).toEqual(hoursFrom(hour(K0), hour(K0 + 5)));
  expect(await services.watermark(table)).toBe(hour(K0 + 5));
  const sent = await expectEachPlantedAlertOnce(services, table, since);
  // And a run right after finds nothing to do and sends nothing.
  const again = await services.run({ table, now: runAt(K0 + 6) });
  expect(again.report).toMatchObject({ outcome: 'completed', hoursEvaluated: 0 });
  expect(plantedMessagesSince(services, since)).toEqual(sent);
}

describe('the usage API answers 429 for minutes', () => {
  it('honours Retry-After, stops at the deadline with the hours pending, and the next run catches up', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'rate-limited');
    const since = mark(services);
    // Rate-limited with a 1 s Retry-After: the run waits as asked until its 3.5 s budget cannot fit another try.
    services.api.setFaults([{ kind: 'rate-limit', retryAfterSeconds: 1, path: USAGE }]);
    let before = services.api.requests.length;
    const waited = await services.run({ table, now: runAt(K0 + 4), budgetMs: 3_500 });
    expectFailedNothingAdvanced(waited, 4);
    expect(waited.retries.length).toBeGreaterThan(0);
    for (const retry of waited.retries) {
      expect(retry).toMatchObject({ status: 429, retryAfter: true, delayMs: 1_000 });
    }
    expect(usageReads(before)).toHaveLength(waited.retries.length + 1);
    expect(stopLine(waited)).toMatch(/asked to wait 1 s.*status 429.*deadline/);
    expect(waited.metrics[SentinelMetric.apiRetries]).toBe(waited.retries.length);

    // Still limited an hour later, now asking for five minutes: one request, no hammering, failed at once.
    services.api.setFaults([{ kind: 'rate-limit', retryAfterSeconds: 300, path: USAGE }]);
    before = services.api.requests.length;
    const asked = await services.run({ table, now: runAt(K0 + 5), budgetMs: 10_000 });
    expectFailedNothingAdvanced(asked, 5);
    expect(usageReads(before)).toHaveLength(1);
    expect(stopLine(asked)).toMatch(/asked to wait 300 s.*status 429/);
    expect(await services.watermark(table)).toBe(hour(K0 - 1));
    expect(plantedMessagesSince(services, since)).toEqual({ slack: [], email: [] });

    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    expect(recovered.report.outcome).toBe('completed');
    expect(recovered.metrics[SentinelMetric.runSucceeded]).toBe(1);
    await expectRecovered(table, [waited, asked, recovered], since);
  });
});

describe('the usage API answers 5xx in bursts', () => {
  it('rides a burst out with retries and completes the run', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'server-errors');
    const since = mark(services);
    services.api.setFaults([
      { kind: 'server-error', status: 500, times: 1, path: USAGE },
      { kind: 'server-error', status: 503, times: 1, path: USAGE },
      { kind: 'server-error', status: 502, times: 1, path: USAGE },
    ]);
    const run = await services.run({ table, now: runAt(K0 + 6), quickApi: QUICK });
    services.api.setFaults([]);
    expect(run.report.outcome).toBe('completed');
    expect(run.handlerThrows).toBe(false);
    expect(run.retries.map((r) => r.status)).toEqual([500, 503, 502]);
    expect(logLinesMatching(run.logs, 'warn', /OpenAI usage API: retrying.*"status":503/)).toHaveLength(1);
    expect(run.metrics).toMatchObject({ [SentinelMetric.runSucceeded]: 1, [SentinelMetric.apiRetries]: 3 });
    await expectRecovered(table, [run], since);
  });

  it('a burst longer than the attempts fails the run, with the status in the log, and the next run catches up', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'server-errors-long');
    const since = mark(services);
    services.api.setFaults([{ kind: 'server-error', status: 502, path: USAGE }]);
    const failed = await services.run({ table, now: runAt(K0 + 6), quickApi: { ...QUICK, maxAttempts: 3 } });
    expectFailedNothingAdvanced(failed, 6);
    expect(stopLine(failed)).toMatch(/did not answer .* after 3 attempts \(last: status 502\)/);
    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    expect(recovered.report.outcome).toBe('completed');
    await expectRecovered(table, [failed, recovered], since);
  });
});

describe('the usage API answers slower than the request timeout', () => {
  it('times the slow attempt out and retries it', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'slow-once');
    const since = mark(services);
    services.api.setFaults([{ kind: 'slow', delayMs: 2_000, times: 1, path: USAGE }]);
    const run = await services.run({ table, now: runAt(K0 + 6), quickApi: QUICK });
    services.api.setFaults([]);
    expect(run.report.outcome).toBe('completed');
    expect(run.retries).toMatchObject([{ reason: 'timeout after 300 ms' }]);
    expect(logLinesMatching(run.logs, 'warn', /retrying.*timeout after 300 ms/)).toHaveLength(1);
    await expectRecovered(table, [run], since);
  });

  it('when every answer is too slow, stops at the deadline with the hours pending', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'slow-always');
    const since = mark(services);
    services.api.setFaults([{ kind: 'slow', delayMs: 5_000, path: USAGE }]);
    const failed = await services.run({ table, now: runAt(K0 + 6), budgetMs: 1_500, quickApi: QUICK });
    expectFailedNothingAdvanced(failed, 6);
    expect(stopLine(failed)).toMatch(/timeout after 300 ms.*deadline/);
    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [failed, recovered], since);
  });
});

describe('the usage API cuts bodies off', () => {
  it('retries a body cut off half way and completes', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'cut-off');
    const since = mark(services);
    services.api.setFaults([{ kind: 'cut-off', times: 2, path: USAGE }]);
    const run = await services.run({ table, now: runAt(K0 + 6), quickApi: QUICK });
    services.api.setFaults([]);
    expect(run.report.outcome).toBe('completed');
    expect(run.retries).toHaveLength(2);
    for (const retry of run.retries) expect(retry.reason).toMatch(/^network: /);
    await expectRecovered(table, [run], since);
  });

  it('a body cut off on every attempt fails the run, naming the network error', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'cut-off-always');
    const since = mark(services);
    services.api.setFaults([{ kind: 'cut-off', path: USAGE }]);
    const failed = await services.run({ table, now: runAt(K0 + 6), quickApi: { ...QUICK, maxAttempts: 3 } });
    expectFailedNothingAdvanced(failed, 6);
    expect(stopLine(failed)).toMatch(/after 3 attempts \(last: network: /);
    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [failed, recovered], since);
  });
});

describe('the usage API drifts from its schema', () => {
  it.each([
    ['renamed-field', /input_tokens/],
    ['string-for-number', /num_model_requests/],
  ] as const)('%s: fails at once, names the field, advances nothing', async (drift, field) => {
    const table = await services.cloneTable(PRIMED_TABLE, `drift-${drift}`);
    const since = mark(services);
    services.api.setFaults([{ kind: 'schema-drift', drift, path: USAGE }]);
    const before = services.api.requests.length;
    const failed = await services.run({ table, now: runAt(K0 + 6) });
    // Retrying cannot fix a shape: one request, no retry.
    expect(usageReads(before)).toHaveLength(1);
    expect(failed.retries).toEqual([]);
    expectFailedNothingAdvanced(failed, 6);
    const line = stopLine(failed);
    expect(line).toMatch(/does not match the expected shape/);
    expect(line).toMatch(field);
    expect(await services.watermark(table)).toBe(hour(K0 - 1));
    expect(await services.outbox(table)).toEqual([]);

    services.api.setFaults([]);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [failed, recovered], since);
  });
});
