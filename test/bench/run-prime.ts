// Primes series states for the scale benchmark without a week of DynamoDB round trips: the same pure
// detector the HourEvaluator runs (detectSeriesHour, per series, oldest hour first), over in-memory
// states, exactly as a deployment's first run would leave them (priming hours, then live hours).
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import { HOUR_SECONDS, type UsageRow } from '../../functions/core/usage.ts';
import { detectSeriesHour } from '../../functions/detection/detect-series-hour.ts';
import { detectionSettingsFor } from '../../functions/detection/detection-settings.ts';
import { priceLookup } from '../../functions/detection/model-price.ts';
import {
  emptyMetrics,
  type SeriesId,
  seriesKey,
  seriesMetrics,
} from '../../functions/detection/series-metrics.ts';
import type { SeriesState } from '../../functions/detection/series-state.ts';

export interface PrimedSeries {
  id: SeriesId;
  state: SeriesState;
}

/**
 * States after evaluating hours [from, to): hours before `alertsFrom` as priming, the rest live
 * (their alerts are counted, not kept). Mirrors HourEvaluator.evaluate, minus the storage.
 */
export function primeStates(
  usageAt: (hourStart: number) => UsageRow[],
  config: SentinelConfig,
  range: { from: number; to: number; alertsFrom: number },
): { series: PrimedSeries[]; openIncidents: SeriesId[]; liveAlerts: number } {
  const price = priceLookup(config.prices);
  // detectSeriesHour copies each state with structuredClone, most of the priming's CPU; for these plain
  // objects a recursive copy gives the same result many times faster (only here, not in the timed runs).
  const nativeClone = globalThis.structuredClone;
  globalThis.structuredClone = plainCopy as typeof structuredClone;
  try {
    return primeWith(usageAt, config, range, price);
  } finally {
    globalThis.structuredClone = nativeClone;
  }
}

function primeWith(
  usageAt: (hourStart: number) => UsageRow[],
  config: SentinelConfig,
  range: { from: number; to: number; alertsFrom: number },
  price: ReturnType<typeof priceLookup>,
): { series: PrimedSeries[]; openIncidents: SeriesId[]; liveAlerts: number } {
  const states = new Map<string, PrimedSeries>();
  let liveAlerts = 0;
  for (let hour = range.from; hour < range.to; hour += HOUR_SECONDS) {
    const metrics = seriesMetrics(usageAt(hour), price);
    const ids = new Map<string, SeriesId>();
    for (const m of metrics.values()) ids.set(seriesKey(m), { projectId: m.projectId, apiKeyId: m.apiKeyId });
    for (const [key, entry] of states) if (entry.state.incident) ids.set(key, entry.id);
    for (const [key, id] of ids) {
      const result = detectSeriesHour({
        state: states.get(key)?.state,
        metrics: metrics.get(key) ?? emptyMetrics(id),
        hourStart: hour,
        settings: detectionSettingsFor(config, id),
        notifications: config.notifications,
        priming: hour < range.alertsFrom,
      });
      if (result.applied && result.state) states.set(key, { id, state: result.state });
      liveAlerts += result.alerts.length;
    }
  }
  const series = [...states.values()];
  const openIncidents = series
    .filter((s) => s.state.incident)
    .map((s) => s.id)
    .sort((a, b) => (seriesKey(a) < seriesKey(b) ? -1 : 1));
  return { series, openIncidents, liveAlerts };
}

function plainCopy<T>(value: T): T {
  if (Array.isArray(value)) {
    return (
      value.some((v) => v !== null && typeof v === 'object') ? value.map(plainCopy) : value.slice()
    ) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = plainCopy(v);
  return out as T;
}
