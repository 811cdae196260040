// The extra replays behind the backtest report: one that records the baseline band of the charted
// series, and a small sensitivity sweep. Each runs from an empty state on its own table of the
// backtest's embedded DynamoDB, over the hours the first replay already read (the API is read once).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import type { Alert } from '../../functions/core/alert.ts';
import { replayHistory } from '../../functions/core/replay-history.ts';
import type { Deadline, UsageHour, UsageSource } from '../../functions/core/usage.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { HourEvaluator } from '../../functions/detection/hour-evaluator.ts';
import type { SeriesId } from '../../functions/detection/series-metrics.ts';
import { ensureStateTable } from '../../functions/local/embedded-dynamodb.ts';
import { BandRecordingEvaluator, type BandsBySeries } from './backtest-report-band.ts';
import { progressLine } from './progress-line.ts';

/** Multiples of the configured sensitivity the sweep tries (1 is the backtest itself). */
export const SWEEP_FACTORS: readonly number[] = [0.6, 0.8, 1, 1.25, 1.5];
/** The configuration schema's bounds of `detection.sensitivity`. */
const SENSITIVITY_MIN = 1;
const SENSITIVITY_MAX = 20;

/** Keeps the hours a replay reads, so later replays read them again without the API. */
export class CachingUsageSource implements UsageSource {
  readonly hours = new Map<number, UsageHour>();
  readonly #inner: UsageSource;

  constructor(inner: UsageSource) {
    this.#inner = inner;
  }

  async readHours(range: { start: number; end: number }, deadline: Deadline): Promise<UsageHour[]> {
    const missing: number[] = [];
    for (let t = range.start; t < range.end; t += HOUR_SECONDS) if (!this.hours.has(t)) missing.push(t);
    if (missing.length) {
      const read = await this.#inner.readHours(range, deadline);
      for (const hour of read) this.hours.set(hour.start, hour);
    }
    const out: UsageHour[] = [];
    for (let t = range.start; t < range.end; t += HOUR_SECONDS) {
      const hour = this.hours.get(t);
      out.push(hour ?? { start: t, rows: [] });
    }
    return out;
  }
}

export interface ReplayContext {
  client: DynamoDBClient;
  config: SentinelConfig;
  source: UsageSource;
  start: number;
  end: number;
}

let tableCounter = 0;
async function freshTable(client: DynamoDBClient, label: string): Promise<string> {
  tableCounter += 1;
  const name = `report-${label}-${tableCounter}`;
  await ensureStateTable(client, name);
  return name;
}

const infinite: Deadline = { atMs: Number.POSITIVE_INFINITY };

/** Replays once more at the configured settings, reading the band of `tracked` before each hour. */
export async function replayWithBands(context: ReplayContext, tracked: SeriesId[]): Promise<BandsBySeries> {
  const { client, config, start, end } = context;
  const tableName = await freshTable(client, 'band');
  const evaluator = new BandRecordingEvaluator({
    inner: new HourEvaluator({ client, tableName, config }),
    client,
    tableName,
    config,
    tracked,
    start,
  });
  const progress = progressLine('Report: baseline bands', (end - start) / HOUR_SECONDS);
  await replayHistory({
    source: context.source,
    evaluator,
    start,
    end,
    deadline: infinite,
    onProgress: progress.update,
  });
  progress.done();
  return evaluator.bands;
}

export interface SweepPoint {
  factor: number;
  sensitivity: number;
  /** Incidents opened (spike and new_key) after the priming week. */
  opened: number;
  perWeek: number;
  series: number;
}

/** The sensitivities to try: the configured one times each factor, within the schema's bounds, no repeats. */
export function sweepSensitivities(base: number): Array<{ factor: number; sensitivity: number }> {
  const seen = new Set<number>();
  const out: Array<{ factor: number; sensitivity: number }> = [];
  for (const factor of SWEEP_FACTORS) {
    const sensitivity =
      Math.round(Math.min(SENSITIVITY_MAX, Math.max(SENSITIVITY_MIN, base * factor)) * 100) / 100;
    if (seen.has(sensitivity)) continue;
    seen.add(sensitivity);
    out.push({ factor, sensitivity });
  }
  return out;
}

/** The configuration with every sensitivity (default and overrides) scaled alike. */
export function scaleSensitivity(config: SentinelConfig, factor: number): SentinelConfig {
  const scale = (s: number) => Math.min(SENSITIVITY_MAX, Math.max(SENSITIVITY_MIN, s * factor));
  const scaleOverrides = <T extends { sensitivity?: number | undefined }>(o: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(o).map(([id, v]) => [
        id,
        v.sensitivity === undefined ? v : { ...v, sensitivity: scale(v.sensitivity) },
      ]),
    );
  return {
    ...config,
    detection: { ...config.detection, sensitivity: scale(config.detection.sensitivity) },
    overrides: {
      projects: scaleOverrides(config.overrides.projects),
      apiKeys: scaleOverrides(config.overrides.apiKeys),
    },
  };
}

export function countOpened(
  alerts: readonly Alert[],
  alertsFrom: number,
  end: number,
): Omit<SweepPoint, 'factor' | 'sensitivity'> {
  const opened = alerts.filter(
    (a) => a.bucketStart >= alertsFrom && (a.type === 'spike' || a.type === 'new_key'),
  );
  const weeks = Math.max((end - alertsFrom) / (7 * 24 * HOUR_SECONDS), 1 / 7);
  const series = new Set(opened.map((a) => `${a.projectId}\u0000${a.apiKeyId}`));
  return { opened: opened.length, perWeek: opened.length / weeks, series: series.size };
}

/** Replays at each sensitivity of the sweep; the configured one is taken from the backtest's own alerts. */
export async function sensitivitySweep(
  context: ReplayContext,
  backtest: { alerts: readonly Alert[]; alertsFrom: number },
): Promise<SweepPoint[]> {
  const { client, start, end } = context;
  const points: SweepPoint[] = [];
  for (const { factor, sensitivity } of sweepSensitivities(context.config.detection.sensitivity)) {
    if (factor === 1) {
      points.push({ factor, sensitivity, ...countOpened(backtest.alerts, backtest.alertsFrom, end) });
      continue;
    }
    const config = scaleSensitivity(context.config, factor);
    const tableName = await freshTable(client, 'sweep');
    const progress = progressLine(`Report: sensitivity ${sensitivity}`, (end - start) / HOUR_SECONDS);
    const result = await replayHistory({
      source: context.source,
      evaluator: new HourEvaluator({ client, tableName, config }),
      start,
      end,
      deadline: infinite,
      onProgress: progress.update,
    });
    progress.done();
    points.push({ factor, sensitivity, ...countOpened(result.alerts, result.alertsFrom, end) });
  }
  return points.sort((a, b) => a.sensitivity - b.sensitivity);
}
