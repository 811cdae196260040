// The function running out of time mid-run. First the designed path: a catch-up longer than the run's
// budget reaches its deadline between hours, reports `partial` with the rest pending, and the next run
// finishes them. Then the hard case: the process is killed (Lambda's timeout) in the middle of an hour;
// the next run, once the dead run's lease has expired, picks up where the last committed hour left off.
// The deadline is a clock the test moves (it expires after a chosen number of hours), so nothing here
// depends on how fast the machine is.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Deadline } from '../../functions/core/usage.ts';
import { SentinelMetric } from '../../functions/deployment-contract.ts';
import { PARTITION_KEY, SORT_KEY } from '../../functions/state/table-schema.ts';
import { hoursFrom, logLinesMatching } from './support/fault-services.ts';
import {
  committedAcross,
  expectEachPlantedAlertOnce,
  hour,
  K0,
  mark,
  PRIMED_TABLE,
  plantedMessagesSince,
  runAt,
} from './support/fault-timeline.ts';
import { usePrimedFaultServices } from './support/primed-fault-services.ts';

const services = usePrimedFaultServices();

/** A deadline a minute away until `expired()` says otherwise, then already past. */
function movableDeadline(expired: () => boolean): Deadline {
  const far = Date.now() + 60_000;
  return {
    get atMs() {
      return expired() ? Date.now() - 1 : far;
    },
  };
}

describe('the deadline arrives between hours', () => {
  it('stops with outcome partial, the rest pending, and the next run finishes them; each alert once', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'deadline');
    const since = mark(services);
    // A 30-hour catch-up whose deadline passes once the fifth hour is under way.
    let started = 0;
    const partial = await services.run({
      table,
      now: runAt(K0 + 30),
      deadline: movableDeadline(() => started >= 5),
      onEvaluate: () => {
        started += 1;
      },
    });
    expect(partial.report.outcome).toBe('partial');
    expect(partial.handlerThrows).toBe(false);
    expect(partial.metrics[SentinelMetric.runSucceeded]).toBe(0);
    const evaluated = partial.report.hoursEvaluated;
    expect(evaluated).toBeGreaterThanOrEqual(5);
    expect(evaluated).toBeLessThan(30);
    expect(partial.report.hoursLeftPending).toBe(30 - evaluated);
    expect(await services.watermark(table)).toBe(hour(K0 + evaluated - 1));
    const line = logLinesMatching(partial.logs, 'warn', /Out of time; the remaining hours stay pending/);
    expect(line).toMatchObject([{ attributes: { hoursLeftPending: 30 - evaluated } }]);
    // Past the deadline nothing is sent; the recorded spike waits in the outbox.
    expect(plantedMessagesSince(services, since)).toEqual({ slack: [], email: [] });

    const rest = await services.run({ table, now: runAt(K0 + 30) });
    expect(rest.report.outcome).toBe('completed');
    expect(rest.metrics[SentinelMetric.runSucceeded]).toBe(1);
    expect(committedAcross([partial, rest])).toEqual(hoursFrom(hour(K0), hour(K0 + 29)));
    await expectEachPlantedAlertOnce(services, table, since);
  });
});

describe('the process is killed in the middle of an hour', () => {
  it('loses no committed hour, and the run after the lease expires finishes without sending twice', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'killed');
    const since = mark(services);
    // Delivered first: the spike hour and its alert, so the killed run has something to not resend.
    const first = await services.run({ table, now: runAt(K0 + 5) });
    expect(first.report.outcome).toBe('completed');

    // The next run hangs as its third hour starts, as a process does when Lambda's timeout kills it:
    // from there it never gets further.
    let release: (error: Error) => void = () => undefined;
    const hung = new Promise<never>((_resolve, reject) => {
      release = reject;
    });
    let started = 0;
    const killed = services.run({
      table,
      now: runAt(K0 + 12),
      runId: 'killed-run',
      onEvaluate: async () => {
        started += 1;
        if (started === 3) await hung;
      },
    });
    await until(() => started >= 3);
    // The two hours before were committed one by one.
    expect(await services.watermark(table)).toBe(hour(K0 + 6));

    // An hour later its lease has long expired (simulated: written as expired).
    await services.directClient.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          [PARTITION_KEY]: { S: 'meta' },
          [SORT_KEY]: { S: 'lease' },
          owner: { S: 'killed-run' },
          leaseExpiresAtMs: { N: String(Date.now() - 1) },
        },
      }),
    );
    const next = await services.run({ table, now: runAt(K0 + 13) });
    expect(next.report.outcome).toBe('completed');
    expect(next.committed[0]).toBe(hour(K0 + 7));
    await expectEachPlantedAlertOnce(services, table, since);

    // Even if the dead run woke up (a frozen, not killed, container), it would send nothing twice.
    release(new Error('the process was frozen'));
    const zombie = await killed;
    expect(zombie.report.outcome).toBe('failed');
    expect(committedAcross([first, zombie, next])).toEqual(hoursFrom(hour(K0), hour(K0 + 12)));
    await expectEachPlantedAlertOnce(services, table, since);
  });
});

/** Waits for a condition the code under test makes true; polls, asserts nothing about time. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('the awaited condition never became true');
}
