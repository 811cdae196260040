// One scheduled run, the same for the Lambda, `usage-sentinel run` and the demo:
// lease -> pending hours -> read usage -> evaluate oldest first -> record alerts -> advance the
// watermark -> deliver what is pending. Each hour is committed on its own, so a failure or the
// deadline leaves the rest pending for the next run, and nothing already recorded is lost.
import type { Alert, SeriesNames } from './alert.ts';
import { errorMessage } from './error-message.ts';
import { pendingHours } from './pending-hours.ts';
import { type Deadline, HOUR_SECONDS, type UsageHour, type UsageSource } from './usage.ts';

export interface RunLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface RunStatePort {
  acquireLease(owner: string, nowMs: number, ttlSeconds: number): Promise<boolean>;
  releaseLease(owner: string): Promise<void>;
  readWatermark(): Promise<number | undefined>;
  advanceWatermark(expected: number | undefined, next: number): Promise<void>;
}

export interface HourEvaluatorPort {
  evaluate(
    hour: UsageHour,
    options?: { priming?: boolean; beforeCommit?: (alerts: Alert[]) => Promise<void> },
  ): Promise<{ alerts: Alert[]; seriesEvaluated: number }>;
}

export interface AlertRecorderPort {
  record(alerts: Alert[]): Promise<unknown>;
}

export interface ChannelCounts {
  slack: number;
  email: number;
}

export interface DeliveryReport {
  sent: ChannelCounts;
  failed: ChannelCounts;
}

export interface DeliveryPort {
  deliverPending(deadline: Deadline): Promise<DeliveryReport>;
}

/** Daily comparison of estimated and billed cost (see daily-cost-check.ts). */
export interface CostCheckPort {
  recordHour(hour: UsageHour): Promise<void>;
  checkOnceADay(now: number, deadline: Deadline): Promise<unknown>;
}

export type NameLookup = (projectId: string, apiKeyId: string | null) => SeriesNames;

export interface RunDependencies {
  usageSource: UsageSource;
  runState: RunStatePort;
  evaluator: HourEvaluatorPort;
  outbox: AlertRecorderPort;
  /** Absent in dry runs: alerts are recorded but nothing is sent. */
  delivery?: DeliveryPort;
  /** Loads names once a run; failures fall back to ids. */
  loadNames?: () => Promise<NameLookup>;
  costCheck?: CostCheckPort;
  logger: RunLogger;
}

export interface RunRequest {
  runId: string;
  /** The clock, unix seconds. */
  now: number;
  graceMinutes: number;
  deadline: Deadline;
  /** Hours read from the API per request batch. */
  hoursPerRead?: number;
}

export type RunOutcome = 'completed' | 'partial' | 'skipped' | 'failed';

export interface RunReport {
  runId: string;
  outcome: RunOutcome;
  hoursEvaluated: number;
  firstHour?: number;
  lastHour?: number;
  hoursLeftPending: number;
  seriesEvaluated: number;
  alerts: Alert[];
  delivery?: DeliveryReport;
  error?: Error;
}

/** A finished run never holds the lease longer than this past its deadline. */
const LEASE_MARGIN_SECONDS = 60;

export async function runScheduledEvaluation(deps: RunDependencies, request: RunRequest): Promise<RunReport> {
  const { logger, runState } = deps;
  const report: RunReport = {
    runId: request.runId,
    outcome: 'completed',
    hoursEvaluated: 0,
    hoursLeftPending: 0,
    seriesEvaluated: 0,
    alerts: [],
  };
  const leaseSeconds = Math.ceil((request.deadline.atMs - Date.now()) / 1000) + LEASE_MARGIN_SECONDS;
  if (!(await runState.acquireLease(request.runId, Date.now(), leaseSeconds))) {
    logger.warn('Another run holds the lease; this one does nothing', { runId: request.runId });
    return { ...report, outcome: 'skipped' };
  }
  try {
    await evaluatePendingHours(deps, request, report);
  } catch (error) {
    if (isWatermarkConflict(error)) {
      // A duplicate invocation (a retried event) evaluated the same hours first: nothing is lost.
      logger.warn('Another run advanced the watermark first; this one stops', { runId: request.runId });
      report.outcome = 'skipped';
    } else {
      report.outcome = 'failed';
      report.error = error instanceof Error ? error : new Error(String(error));
      logger.error('Evaluation stopped; the hours not evaluated stay pending for the next run', {
        error: `${report.error.name}: ${report.error.message}`,
        hoursEvaluated: report.hoursEvaluated,
        hoursLeftPending: report.hoursLeftPending,
      });
    }
  }
  return finish(deps, request, report);
}

/** After evaluation: the daily cost check, delivery of what is pending, and the lease released. */
async function finish(deps: RunDependencies, request: RunRequest, report: RunReport): Promise<RunReport> {
  const { logger } = deps;
  // Never fails the run: it only logs how far the price table is from the bill.
  await deps.costCheck?.checkOnceADay(request.now, request.deadline);
  try {
    // Also after a failed evaluation: alerts recorded by this or earlier runs still go out.
    if (deps.delivery) report.delivery = await deps.delivery.deliverPending(request.deadline);
  } catch (error) {
    const message = errorMessage(error);
    logger.error('Delivery failed; undelivered alerts stay in the outbox for the next run', {
      error: message,
    });
    if (report.outcome !== 'failed') {
      report.outcome = 'failed';
      report.error = error instanceof Error ? error : new Error(message);
    }
  } finally {
    try {
      await deps.runState.releaseLease(request.runId);
    } catch (error) {
      // Every hour is committed by now: a lease left behind only delays the next run until it expires.
      logger.warn('Could not release the lease; it expires by itself shortly after this run', {
        error: errorMessage(error),
      });
    }
  }
  return report;
}

const isWatermarkConflict = (error: unknown): boolean =>
  error instanceof Error && error.name === 'WatermarkConflictError';

async function evaluatePendingHours(deps: RunDependencies, request: RunRequest, report: RunReport) {
  const { logger } = deps;
  let watermark = await deps.runState.readWatermark();
  const pending = pendingHours(request.now, request.graceMinutes, watermark);
  report.hoursLeftPending = (pending.end - pending.start) / HOUR_SECONDS;
  if (pending.start >= pending.end) {
    logger.info('No closed hour is pending', { watermark });
    return;
  }
  logger.info('Evaluating pending hours', {
    from: isoHour(pending.start),
    to: isoHour(pending.end - HOUR_SECONDS),
    hours: report.hoursLeftPending,
    priming: watermark === undefined,
  });
  const names = await loadNamesSafely(deps);
  const hoursPerRead = request.hoursPerRead ?? 24;
  const outOfTime = () => {
    report.outcome = 'partial';
    logger.warn('Out of time; the remaining hours stay pending for the next run', {
      hoursLeftPending: report.hoursLeftPending,
    });
  };
  for (let chunkStart = pending.start; chunkStart < pending.end; chunkStart += hoursPerRead * HOUR_SECONDS) {
    const chunkEnd = Math.min(chunkStart + hoursPerRead * HOUR_SECONDS, pending.end);
    const hours = await deps.usageSource.readHours({ start: chunkStart, end: chunkEnd }, request.deadline);
    for (const hour of hours) {
      if (Date.now() >= request.deadline.atMs) return outOfTime();
      const priming = hour.start < pending.alertsFrom;
      let named: Alert[] = [];
      const { seriesEvaluated } = await deps.evaluator.evaluate(hour, {
        priming,
        beforeCommit: async (alerts) => {
          named = alerts.map((alert) => withNames(alert, names));
          if (named.length) await deps.outbox.record(named);
        },
      });
      await recordCostEstimate(deps, hour);
      await deps.runState.advanceWatermark(watermark, hour.start);
      watermark = hour.start;
      report.firstHour ??= hour.start;
      report.lastHour = hour.start;
      report.hoursEvaluated += 1;
      report.hoursLeftPending -= 1;
      report.seriesEvaluated += seriesEvaluated;
      report.alerts.push(...named);
    }
  }
}

async function recordCostEstimate(deps: RunDependencies, hour: UsageHour): Promise<void> {
  try {
    await deps.costCheck?.recordHour(hour);
  } catch (error) {
    // The estimate only feeds a daily log line; it must not hold up alerting.
    deps.logger.warn("Could not record the hour's cost estimate", {
      error: errorMessage(error),
    });
  }
}

async function loadNamesSafely(deps: RunDependencies): Promise<NameLookup | undefined> {
  if (!deps.loadNames) return undefined;
  try {
    return await deps.loadNames();
  } catch (error) {
    deps.logger.warn('Could not load project and key names; alerts show ids', {
      error: errorMessage(error),
    });
    return undefined;
  }
}

function withNames(alert: Alert, names: NameLookup | undefined): Alert {
  if (!names) return alert;
  return { ...alert, names: { ...names(alert.projectId, alert.apiKeyId), ...alert.names } };
}

const isoHour = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().slice(0, 13);
