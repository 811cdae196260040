// Which hours a run evaluates: every hour after the last one evaluated, up to the last hour that
// closed more than the grace ago. A new deployment starts with a week of history to prime baselines.
import { alignToHour, HOUR_SECONDS } from './usage.ts';

export const PRIMING_HOURS = 7 * 24;

export interface PendingHours {
  /** First hour to evaluate (unix s); equals `end` when nothing is pending. */
  start: number;
  /** Exclusive end: the hour after the last closed one. */
  end: number;
  /** Hours before this one only prime baselines: a fresh state must not page about last week. */
  alertsFrom: number;
}

export function pendingHours(
  nowSeconds: number,
  graceMinutes: number,
  watermark: number | undefined,
): PendingHours {
  const end = alignToHour(nowSeconds - graceMinutes * 60);
  if (watermark === undefined) {
    const start = end - PRIMING_HOURS * HOUR_SECONDS;
    return { start, end, alertsFrom: end - HOUR_SECONDS };
  }
  const start = Math.min(watermark + HOUR_SECONDS, end);
  return { start, end, alertsFrom: start };
}
