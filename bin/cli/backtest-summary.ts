// The backtest's printed summary: how many pages a week, of which kinds, and which series were noisiest.
import type { Alert } from '../../functions/core/alert.ts';
import type { ReplayResult } from '../../functions/core/replay-history.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';

const WEEK_SECONDS = 7 * 24 * HOUR_SECONDS;
const isOpening = (alert: Alert) => alert.type === 'spike' || alert.type === 'new_key';
const seriesLabel = (alert: Alert) =>
  `${alert.names?.project ?? alert.projectId} / ${alert.names?.apiKey ?? alert.apiKeyId ?? '(no key)'}`;
const day = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

export function summarizeBacktest(result: ReplayResult, range: { start: number; end: number }): string {
  const scored = result.alerts.filter((alert) => alert.bucketStart >= result.alertsFrom);
  const opening = scored.filter(isOpening);
  const weeks = Math.max((range.end - result.alertsFrom) / WEEK_SECONDS, 1 / 7);
  const byType = new Map<string, number>();
  for (const alert of scored) byType.set(alert.type, (byType.get(alert.type) ?? 0) + 1);
  const bySeries = new Map<string, { label: string; count: number; usd: number }>();
  for (const alert of opening) {
    const key = `${alert.projectId}\u0000${alert.apiKeyId}`;
    const entry = bySeries.get(key) ?? { label: seriesLabel(alert), count: 0, usd: 0 };
    entry.count += 1;
    entry.usd += alert.excessUsdTotal;
    bySeries.set(key, entry);
  }
  const byWeek = new Map<number, number>();
  for (const alert of opening) {
    const week = Math.floor((alert.bucketStart - result.alertsFrom) / WEEK_SECONDS);
    byWeek.set(week, (byWeek.get(week) ?? 0) + 1);
  }
  const lines = [
    `Backtest of ${result.hours} hours, ${day(range.start)} to ${day(range.end - HOUR_SECONDS)}; alerts counted from ${day(result.alertsFrom)} (the week before primes the baselines).`,
    `Incidents opened: ${opening.length} (${(opening.length / weeks).toFixed(1)} a week) in ${bySeries.size} series. ` +
      `By type: ${[...byType].map(([type, n]) => `${type} ${n}`).join(', ') || 'none'}.`,
  ];
  if (byWeek.size) {
    lines.push('Per week:');
    for (const [week, n] of [...byWeek].sort((a, b) => a[0] - b[0])) {
      lines.push(`  week of ${day(result.alertsFrom + week * WEEK_SECONDS)}: ${n}`);
    }
  }
  const noisiest = [...bySeries.values()].sort((a, b) => b.count - a.count || b.usd - a.usd).slice(0, 10);
  if (noisiest.length) {
    lines.push('Noisiest series (incidents, estimated excess USD at the first alert):');
    for (const s of noisiest)
      lines.push(`  ${String(s.count).padStart(4)}  $${s.usd.toFixed(2).padStart(9)}  ${s.label}`);
  }
  return lines.join('\n');
}
