// `backtest --report FILE.html`: charts of the series that alerted, with their baseline and alerts, and
// how many alerts other sensitivities would have given, so tuning is a look rather than a guess.
import { writeFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import type { Alert } from '../../functions/core/alert.ts';
import type { ReplayResult } from '../../functions/core/replay-history.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { type SeriesId, seriesKey } from '../../functions/detection/series-metrics.ts';
import { type ReportSeries, renderReportHtml } from './backtest-report-html.ts';
import { type CachingUsageSource, replayWithBands, sensitivitySweep } from './backtest-report-replays.ts';

/** The page stays readable (and small): at most this many series are charted. */
export const MAX_CHARTED_SERIES = 30;

export interface BacktestReportRequest {
  path: string;
  /** The backtest's embedded DynamoDB: the report's replays each get a fresh table on it. */
  client: DynamoDBClient;
  config: SentinelConfig;
  /** The source the backtest read through; it holds every hour now. */
  source: CachingUsageSource;
  result: ReplayResult;
  range: { start: number; end: number };
  summaryText: string;
  sourceLabel: string;
}

export async function writeBacktestReport(request: BacktestReportRequest): Promise<void> {
  const { result, range, source } = request;
  const ranked = rankSeries(result.alerts.filter((a) => a.bucketStart >= result.alertsFrom));
  const charted = ranked.slice(0, MAX_CHARTED_SERIES);
  const context = {
    client: request.client,
    config: request.config,
    source,
    start: range.start,
    end: range.end,
  };

  const bands = await replayWithBands(
    context,
    charted.map((s) => s.id),
  );
  const sweep = await sensitivitySweep(context, result);

  const hours = Math.round((range.end - range.start) / HOUR_SECONDS);
  const observed = new Map<string, number[]>(
    charted.map((s) => [seriesKey(s.id), new Array<number>(hours).fill(0)]),
  );
  const seen = new Set<string>();
  for (const hour of source.hours.values()) {
    const index = (hour.start - range.start) / HOUR_SECONDS;
    if (index < 0 || index >= hours) continue;
    for (const row of hour.rows) {
      const key = seriesKey(row);
      seen.add(key);
      const list = observed.get(key);
      if (list) list[index] = (list[index] ?? 0) + row.inputTokens + row.outputTokens;
    }
  }

  const series: ReportSeries[] = charted.map((s) => {
    const key = seriesKey(s.id);
    const names = s.alerts.find((a) => a.names)?.names;
    return {
      id: s.id,
      ...(names ? { names } : {}),
      observed: observed.get(key) ?? [],
      bands: bands.get(key) ?? [],
      alerts: s.alerts,
    };
  });
  const html = renderReportHtml({
    sourceLabel: request.sourceLabel,
    start: range.start,
    end: range.end,
    alertsFrom: result.alertsFrom,
    hours: result.hours,
    seriesSeen: seen.size,
    alerts: result.alerts,
    summaryText: request.summaryText,
    series,
    seriesAlerted: ranked.length,
    sensitivity: request.config.detection.sensitivity,
    sweep,
    generatedAt: new Date(),
  });
  writeFileSync(request.path, html);
}

interface RankedSeries {
  id: SeriesId;
  alerts: Alert[];
  opened: number;
  excessUsd: number;
}

/** Series with alerts, most incidents first, then most alerts, then most excess USD. */
export function rankSeries(alerts: readonly Alert[]): RankedSeries[] {
  const bySeries = new Map<string, RankedSeries>();
  for (const alert of alerts) {
    const key = seriesKey(alert);
    let entry = bySeries.get(key);
    if (!entry) {
      entry = {
        id: { projectId: alert.projectId, apiKeyId: alert.apiKeyId },
        alerts: [],
        opened: 0,
        excessUsd: 0,
      };
      bySeries.set(key, entry);
    }
    entry.alerts.push(alert);
    if (alert.type === 'spike' || alert.type === 'new_key') {
      entry.opened += 1;
      entry.excessUsd += alert.excessUsdTotal;
    }
  }
  return [...bySeries.entries()]
    .sort(
      ([ka, a], [kb, b]) =>
        b.opened - a.opened ||
        b.alerts.length - a.alerts.length ||
        b.excessUsd - a.excessUsd ||
        (ka < kb ? -1 : ka > kb ? 1 : 0),
    )
    .map(([, entry]) => entry);
}
