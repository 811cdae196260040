// Synthetic series for the detector's unit tests: hour by hour through detectSeriesHour, with the
// state round-tripped through its codec each hour exactly as the evaluator stores it.
import type { SentinelConfigInput } from '../../functions/config/config-schema.ts';
import { parseConfig } from '../../functions/config/parse-config.ts';
import type { Alert } from '../../functions/core/alert.ts';
import { detectSeriesHour } from '../../functions/detection/detect-series-hour.ts';
import { detectionSettingsFor } from '../../functions/detection/detection-settings.ts';
import { priceLookup } from '../../functions/detection/model-price.ts';
import { emptyMetrics, seriesMetrics } from '../../functions/detection/series-metrics.ts';
import type { SeriesState } from '../../functions/detection/series-state.ts';
import { decodeSeriesState, encodeSeriesState } from '../../functions/detection/series-state-codec.ts';

/** Monday 2025-10-13 00:00 UTC. */
export const START = Date.UTC(2025, 9, 13) / 1000;
export const HOUR = 3600;
export const DAY_HOURS = 24;

/** Deterministic noise in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface Replay {
  alerts: Alert[];
  state: SeriesState | undefined;
}

/** Replays `hours` hours of one series (tokens per hour index from START) through the detector. */
export function replaySeries(
  tokensAt: (i: number) => number,
  hours: number,
  config: SentinelConfigInput = {},
  id = { projectId: 'proj_a', apiKeyId: 'key_a' as string | null },
  model: string | ((i: number) => string) = 'gpt-4o',
  /** Requests in the hour; by default one per 2,000 tokens. */
  requestsAt: (i: number, tokens: number) => number = (_i, tokens) => tokens / 2000,
  /** The first hours are a backfill (learned, nothing alerted), as a first deployment primes. */
  primingHours = 0,
): Replay {
  const cfg = parseConfig(config);
  const price = priceLookup(cfg.prices);
  const alerts: Alert[] = [];
  let encoded: string | undefined;
  let state: SeriesState | undefined;
  for (let i = 0; i < hours; i++) {
    const tokens = Math.max(0, Math.round(tokensAt(i)));
    const rows =
      tokens > 0
        ? [
            {
              ...id,
              model: typeof model === 'string' ? model : model(i),
              inputTokens: Math.round(tokens * 0.75),
              cachedInputTokens: 0,
              outputTokens: tokens - Math.round(tokens * 0.75),
              requests: Math.max(1, Math.round(requestsAt(i, tokens))),
            },
          ]
        : [];
    const metrics = seriesMetrics(rows, price).values().next().value ?? emptyMetrics(id);
    const result = detectSeriesHour({
      state: encoded ? decodeSeriesState(encoded) : undefined,
      metrics,
      hourStart: START + i * HOUR,
      settings: detectionSettingsFor(cfg, id),
      notifications: cfg.notifications,
      priming: i < primingHours,
    });
    alerts.push(...result.alerts);
    if (result.state) {
      encoded = encodeSeriesState(result.state);
      state = decodeSeriesState(encoded);
    }
  }
  return { alerts, state };
}

export const hourOf = (a: Alert): number => (a.bucketStart - START) / HOUR;
export const openings = (alerts: Alert[]): Alert[] =>
  alerts.filter((a) => a.type === 'spike' || a.type === 'new_key');
export const spikes = (alerts: Alert[]): Alert[] => alerts.filter((a) => a.type === 'spike');

/**
 * A business-hours key: high 8-18 on weekdays, low otherwise, with +-15% noise, for a team `utcOffset`
 * hours ahead of UTC (START is a Monday).
 */
export function businessHours(level: number, seed = 1, utcOffset = 0): (i: number) => number {
  const r = rng(seed);
  return (i) => {
    const local = i + utcOffset + 7 * 24;
    const hourOfDay = local % 24;
    const weekday = Math.floor(local / 24) % 7 < 5;
    const base = weekday && hourOfDay >= 8 && hourOfDay < 18 ? level : level * 0.15;
    return base * (0.85 + 0.3 * r());
  };
}

/**
 * A key used only by CI: 30k tokens an hour (+-20%) of background in working hours (9-18 UTC) on
 * weekdays, idle otherwise, and its runs: tokens by hour. The noise starts afresh at each call.
 */
export function ciKey(runs: ReadonlyMap<number, number>, seed: number): (i: number) => number {
  const noise = rng(seed);
  return (i) => {
    const working = Math.floor(i / DAY_HOURS) % 7 < 5 && i % DAY_HOURS >= 9 && i % DAY_HOURS < 18;
    return (working ? 30_000 * (0.8 + 0.4 * noise()) : 0) + (runs.get(i) ?? 0);
  };
}
