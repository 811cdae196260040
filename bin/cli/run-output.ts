// What `run` and `demo` print and write: the alert records and a short summary of the run.
import { writeFileSync } from 'node:fs';
import { type Alert, toAlertRecord } from '../../functions/core/alert.ts';
import type { RunReport } from '../../functions/core/run-scheduled-evaluation.ts';
import type { DeliveryResult } from '../../functions/notify/deliver-alerts.ts';

/** JSON Lines of ../CONTRACT.md's alert records; each run writes its own alerts only. */
export function writeAlertsOut(path: string, alerts: readonly Alert[]): void {
  writeFileSync(path, alerts.map((alert) => `${JSON.stringify(toAlertRecord(alert))}\n`).join(''));
}

const hourText = (unixSeconds: number | undefined): string =>
  unixSeconds === undefined ? '-' : `${new Date(unixSeconds * 1000).toISOString().slice(0, 13)}:00Z`;

export function printRunSummary(report: RunReport, delivery: DeliveryResult | undefined): void {
  const lines = [
    `Run ${report.outcome}: ${report.hoursEvaluated} hour(s) evaluated (${hourText(report.firstHour)} to ${hourText(report.lastHour)}), ${report.hoursLeftPending} left pending, ${report.seriesEvaluated} series-hours, ${report.alerts.length} alert(s).`,
  ];
  if (delivery) {
    lines.push(
      `Delivered: Slack ${delivery.sent.slack} (failed ${delivery.failed.slack}), email ${delivery.sent.email} (failed ${delivery.failed.email}).`,
    );
  }
  if (report.error) lines.push(`Error: ${report.error.message}`);
  console.log(lines.join('\n'));
}
