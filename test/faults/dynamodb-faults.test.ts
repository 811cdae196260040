// DynamoDB under load, through the fault proxy in front of dynalite: throttled writes and reads
// (ProvisionedThroughputExceededException, ThrottlingException) and batch items left unprocessed, first
// short enough for the SDK's and batch-io's retries to ride out, then persistent. Checked each time: the
// series state ends identical to a fault-free run's, every hour is evaluated once, the spike goes out once
// per channel, and the outcome and log say what happened.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { SentinelMetric } from '../../functions/deployment-contract.ts';
import { seriesKey } from '../../functions/detection/series-metrics.ts';
import { PARTITION_KEY } from '../../functions/state/table-schema.ts';
import { type FaultRun, hoursFrom, logLinesMatching } from './support/fault-services.ts';
import {
  committedAcross,
  expectEachPlantedAlertOnce,
  faultOrg,
  hour,
  K0,
  mark,
  PLANTED_KEY_ID,
  PRIMED_TABLE,
  plantedMessagesSince,
  runAt,
  SPIKE_HOUR,
  stopLine,
} from './support/fault-timeline.ts';
import { usePrimedFaultServices } from './support/primed-fault-services.ts';

/** batch-io's own attempts (8) with short backoffs, where the fault outlasts them all. */
const QUICK_BATCH = { baseDelayMs: 2 };

const services = usePrimedFaultServices();
/** Series states after a fault-free run over the same hours: what every scenario must end with. */
let reference: Map<string, string>;

async function seriesStates(table: string): Promise<Map<string, string>> {
  const scan = await services.directClient.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  const states = new Map<string, string>();
  for (const item of scan.Items ?? []) {
    const pk = item[PARTITION_KEY]?.S ?? '';
    if (pk.startsWith('series#')) states.set(pk, item.s?.S ?? '');
  }
  return states;
}

beforeAll(async () => {
  const clean = await services.cloneTable(PRIMED_TABLE, 'reference');
  const run = await services.run({ table: clean, now: runAt(K0 + 6) });
  if (run.report.outcome !== 'completed') throw new Error('the reference run failed');
  reference = await seriesStates(clean);
});

const planted = faultOrg.keys.find((k) => k.id === PLANTED_KEY_ID);
const plantedSeries = `"S":"series#${seriesKey({ projectId: planted?.projectId ?? '', apiKeyId: PLANTED_KEY_ID })}"`;
/** Another key with usage in the runaway hour: its state item is the one a hot partition holds back. */
const neighbour = faultOrg.usageAt(SPIKE_HOUR).find((row) => row.apiKeyId !== PLANTED_KEY_ID);
const neighbourSeries = `"S":"series#${seriesKey({ projectId: neighbour?.projectId ?? '', apiKeyId: neighbour?.apiKeyId ?? null })}"`;

/** The end state every scenario must reach once the fault clears. */
async function expectRecovered(
  table: string,
  runs: FaultRun[],
  since: ReturnType<typeof mark>,
  nextRunId?: string,
) {
  expect(committedAcross(runs)).toEqual(hoursFrom(hour(K0), hour(K0 + 5)));
  expect(await services.watermark(table)).toBe(hour(K0 + 5));
  expect(await seriesStates(table)).toEqual(reference);
  const sent = await expectEachPlantedAlertOnce(services, table, since);
  const again = await services.run({ table, now: runAt(K0 + 6), ...(nextRunId ? { runId: nextRunId } : {}) });
  expect(again.report).toMatchObject({ outcome: 'completed', hoursEvaluated: 0 });
  expect(plantedMessagesSince(services, since)).toEqual(sent);
}

const faulted = (from: number) => services.proxy.requests.slice(from).filter((r) => r.fault !== undefined);

describe('throttling and unprocessed items the retries ride out', () => {
  it('throttled writes (batch, put, update): the SDK retries, the run completes', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'throttled-writes');
    const since = mark(services);
    const from = services.proxy.requests.length;
    services.proxy.setFaults([
      { kind: 'throttle', operations: ['BatchWriteItem'], times: 1 },
      { kind: 'throttle', error: 'ThrottlingException', operations: ['PutItem'], times: 1 },
      { kind: 'throttle', operations: ['UpdateItem'], times: 1 },
    ]);
    const run = await services.run({ table, now: runAt(K0 + 6) });
    services.proxy.setFaults([]);
    expect(
      faulted(from)
        .map((r) => r.operation)
        .sort(),
    ).toEqual(['BatchWriteItem', 'PutItem', 'UpdateItem']);
    expect(run.report.outcome).toBe('completed');
    expect(run.metrics[SentinelMetric.runSucceeded]).toBe(1);
    expect(logLinesMatching(run.logs, 'error', /./)).toEqual([]);
    await expectRecovered(table, [run], since);
  });

  it('throttled reads (batch get, get, query): the SDK retries, the run completes', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'throttled-reads');
    const since = mark(services);
    const from = services.proxy.requests.length;
    services.proxy.setFaults([
      { kind: 'throttle', operations: ['BatchGetItem'], times: 1 },
      { kind: 'throttle', error: 'ThrottlingException', operations: ['GetItem'], times: 1 },
      { kind: 'throttle', operations: ['Query'], times: 1 },
    ]);
    const run = await services.run({ table, now: runAt(K0 + 6) });
    services.proxy.setFaults([]);
    expect(faulted(from)).toHaveLength(3);
    expect(run.report.outcome).toBe('completed');
    await expectRecovered(table, [run], since);
  });

  it('unprocessed batch items and keys: batch-io retries them, the state is complete', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'unprocessed');
    const since = mark(services);
    const from = services.proxy.requests.length;
    services.proxy.setFaults([
      { kind: 'unprocessed', operations: ['BatchWriteItem'], times: 4 },
      { kind: 'unprocessed', operations: ['BatchGetItem'], times: 4 },
    ]);
    const run = await services.run({ table, now: runAt(K0 + 6) });
    services.proxy.setFaults([]);
    const stripped = faulted(from);
    expect(stripped).toHaveLength(8);
    expect(stripped.every((r) => (r.unprocessed ?? 0) > 0)).toBe(true);
    expect(run.report.outcome).toBe('completed');
    await expectRecovered(table, [run], since);
  });
});

describe('throttling and unprocessed items that persist', () => {
  it('writes throttled from mid-run on: the run fails after the hours it committed, the next one finishes', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'throttled-mid-run');
    const since = mark(services);
    // Two hours' state writes go through, then the table is over capacity for good.
    services.proxy.setFaults([{ kind: 'throttle', operations: ['BatchWriteItem'], after: 2 }]);
    const failed = await services.run({ table, now: runAt(K0 + 6) });
    services.proxy.setFaults([]);
    expect(failed.report).toMatchObject({ outcome: 'failed', hoursEvaluated: 2, hoursLeftPending: 4 });
    expect(failed.handlerThrows).toBe(true);
    expect(failed.metrics[SentinelMetric.runSucceeded]).toBe(0);
    expect(await services.watermark(table)).toBe(hour(K0 + 1));
    expect(stopLine(failed)).toMatch(/provisioned throughput for the table was exceeded/);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    expect(recovered.report.outcome).toBe('completed');
    expect(recovered.evaluated[0]).toBe(hour(K0 + 2));
    await expectRecovered(table, [failed, recovered], since);
  });

  it('reads throttled for good: the run fails before evaluating, the next one catches up', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'throttled-reads-always');
    const since = mark(services);
    services.proxy.setFaults([
      { kind: 'throttle', error: 'ThrottlingException', operations: ['BatchGetItem'] },
    ]);
    const failed = await services.run({ table, now: runAt(K0 + 6) });
    services.proxy.setFaults([]);
    expect(failed.report).toMatchObject({ outcome: 'failed', hoursEvaluated: 0, hoursLeftPending: 6 });
    expect(stopLine(failed)).toMatch(/Throughput exceeds the current capacity/);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [failed, recovered], since);
  });

  it("a hot partition holding the runaway key's state back: the run fails cleanly, its alert still goes out once", async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'hot-partition-planted');
    const since = mark(services);
    const before = await services.run({ table, now: runAt(K0 + 3) });
    expect(before.report.outcome).toBe('completed');
    services.proxy.setFaults([
      { kind: 'unprocessed', operations: ['BatchWriteItem'], leaveIf: plantedSeries },
    ]);
    const failed = await services.run({ table, now: runAt(K0 + 4), quickBatch: QUICK_BATCH });
    services.proxy.setFaults([]);
    expect(failed.report).toMatchObject({ outcome: 'failed', hoursEvaluated: 0 });
    expect(stopLine(failed)).toMatch(/BatchWriteItem left 1 items unprocessed after 8 attempts/);
    // The alert was recorded before the state write failed, so the failed run's delivery sent it.
    const sentByFailedRun = plantedMessagesSince(services, since);
    expect(sentByFailedRun.slack).toHaveLength(1);
    expect(sentByFailedRun.email).toHaveLength(1);
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [before, failed, recovered], since);
  });

  // A failure after the runaway key's state is written must not lose its spike: the evaluator hands
  // the hour's alerts to the outbox before it writes any state, so the replay finds them recorded.
  it("a hot partition holding another key's state back in the runaway hour: the spike is still sent once", async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'hot-partition-neighbour');
    const since = mark(services);
    const before = await services.run({ table, now: runAt(K0 + 3) });
    services.proxy.setFaults([
      { kind: 'unprocessed', operations: ['BatchWriteItem'], leaveIf: neighbourSeries },
    ]);
    const failed = await services.run({ table, now: runAt(K0 + 4), quickBatch: QUICK_BATCH });
    services.proxy.setFaults([]);
    expect(failed.report).toMatchObject({ outcome: 'failed', hoursEvaluated: 0 });
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [before, failed, recovered], since);
  });

  it('the outbox write throttled in the runaway hour: the spike is still sent once', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'outbox-throttled');
    const since = mark(services);
    const before = await services.run({ table, now: runAt(K0 + 3) });
    services.proxy.setFaults([{ kind: 'throttle', operations: ['PutItem'], bodyIncludes: '"S":"outbox"' }]);
    const failed = await services.run({ table, now: runAt(K0 + 4), quickBatch: QUICK_BATCH });
    services.proxy.setFaults([]);
    expect(failed.report).toMatchObject({ outcome: 'failed', hoursEvaluated: 0 });
    const recovered = await services.run({ table, now: runAt(K0 + 6) });
    await expectRecovered(table, [before, failed, recovered], since);
  });

  it('the lease release throttled after a complete run', async () => {
    const table = await services.cloneTable(PRIMED_TABLE, 'release-throttled');
    const since = mark(services);
    services.proxy.setFaults([{ kind: 'throttle', operations: ['DeleteItem'] }]);
    const outcome = await services.run({ table, now: runAt(K0 + 6), runId: 'release-throttled' }).then(
      (run) => ({ run }),
      (error: unknown) => ({ error }),
    );
    services.proxy.setFaults([]);
    expect(outcome).toHaveProperty('run');
    const run = (outcome as { run: FaultRun }).run;
    expect(run.report.outcome).toBe('completed');
    expect(logLinesMatching(run.logs, 'warn', /Could not release the lease/)).toHaveLength(1);
    expect(run.metrics[SentinelMetric.runSucceeded]).toBe(1);
    // The lease left behind expires within a minute; here the same event retried holds it anyway.
    await expectRecovered(table, [run], since, 'release-throttled');
  });
});
