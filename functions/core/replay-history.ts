// Replays history hour by hour from an empty state through the same evaluator as a scheduled run.
// The first week only primes baselines, as a new deployment's first run does, so what a replay
// reports is what the deployed function would have sent.
import type { Alert } from './alert.ts';
import { PRIMING_HOURS } from './pending-hours.ts';
import type { HourEvaluatorPort } from './run-scheduled-evaluation.ts';
import { type Deadline, HOUR_SECONDS, type UsageSource } from './usage.ts';

export interface ReplayRequest {
  source: UsageSource;
  evaluator: HourEvaluatorPort;
  /** Hours [start, end); the first PRIMING_HOURS - 1 of them alert nothing. */
  start: number;
  end: number;
  deadline: Deadline;
  hoursPerRead?: number;
  onProgress?: (hoursDone: number, hoursTotal: number) => void;
}

export interface ReplayResult {
  alerts: Alert[];
  hours: number;
  /** The first hour whose alerts count. */
  alertsFrom: number;
}

export async function replayHistory(request: ReplayRequest): Promise<ReplayResult> {
  const { start, end } = request;
  const alertsFrom = start + (PRIMING_HOURS - 1) * HOUR_SECONDS;
  const total = Math.max(0, (end - start) / HOUR_SECONDS);
  const step = (request.hoursPerRead ?? PRIMING_HOURS) * HOUR_SECONDS;
  const alerts: Alert[] = [];
  let done = 0;
  for (let chunk = start; chunk < end; chunk += step) {
    const hours = await request.source.readHours(
      { start: chunk, end: Math.min(chunk + step, end) },
      request.deadline,
    );
    for (const hour of hours) {
      const result = await request.evaluator.evaluate(hour, { priming: hour.start < alertsFrom });
      alerts.push(...result.alerts);
      done += 1;
      request.onProgress?.(done, total);
    }
  }
  return { alerts, hours: done, alertsFrom };
}
