// The baseline band of the backtest report: before each hour is evaluated, the states of the charted
// series are read back from the replay's table and asked what they expect of that hour, exactly as the
// detector is about to. This is the one place the report reads detection internals.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import type { HourEvaluatorPort } from '../../functions/core/run-scheduled-evaluation.ts';
import { HOUR_SECONDS, type UsageHour } from '../../functions/core/usage.ts';
import { DORMANT_HOURS } from '../../functions/detection/assess-hour.ts';
import { expectation, fromLog, LOG_OFFSET } from '../../functions/detection/baseline.ts';
import { detectionSettingsFor } from '../../functions/detection/detection-settings.ts';
import { type SeriesId, seriesKey } from '../../functions/detection/series-metrics.ts';
import type { SeriesState } from '../../functions/detection/series-state.ts';
import { SeriesStateStore } from '../../functions/state/series-state-store.ts';

/** What the baseline expected of one hour, in tokens. */
export interface BandPoint {
  expected: number;
  /** The baseline's level when used, one spread either way. */
  low: number;
  high: number;
  /** Tokens at which the hour alone crosses the token thresholds (distance, ratios, excess); the detector's other rules (two hours in a row, USD, recurrence, a rarely used hour judged against the week's peak) move it. */
  threshold: number;
}

/** Per series key, one entry per hour of the replay (index 0 = its first hour); null before the series exists. */
export type BandsBySeries = Map<string, Array<BandPoint | null>>;

export function bandPoint(
  state: SeriesState,
  hour: number,
  settings: { sensitivity: number; minRatio: number; singleHourRatio: number; minExcessTokens: number },
): BandPoint {
  const e = expectation(state, hour);
  // A key silent for weeks is expected to stay silent (as the detector assumes).
  const dormant = hour - state.lastSeenHour > DORMANT_HOURS;
  const expected = dormant ? 0 : e.tokens;
  const ratio = Math.max(
    1 + settings.sensitivity * Math.expm1(e.sigma),
    settings.minRatio,
    settings.singleHourRatio,
  );
  const threshold = Math.max(
    (expected + LOG_OFFSET) * ratio - LOG_OFFSET,
    expected + settings.minExcessTokens,
  );
  return {
    expected,
    low: dormant ? 0 : fromLog(e.mean - e.sigma),
    high: dormant ? 0 : fromLog(e.mean + e.sigma),
    threshold,
  };
}

/** Wraps the evaluator of a replay; collects the band of the tracked series hour by hour. */
export class BandRecordingEvaluator implements HourEvaluatorPort {
  readonly bands: BandsBySeries = new Map();
  readonly #inner: HourEvaluatorPort;
  readonly #store: SeriesStateStore;
  readonly #tracked: SeriesId[];
  readonly #config: SentinelConfig;
  readonly #start: number;

  constructor(deps: {
    inner: HourEvaluatorPort;
    client: DynamoDBClient;
    tableName: string;
    config: SentinelConfig;
    tracked: SeriesId[];
    /** The replay's first hour (unix seconds). */
    start: number;
  }) {
    this.#inner = deps.inner;
    this.#store = new SeriesStateStore(deps.client, deps.tableName);
    this.#tracked = deps.tracked;
    this.#config = deps.config;
    this.#start = deps.start;
    for (const id of deps.tracked) this.bands.set(seriesKey(id), []);
  }

  async evaluate(hour: UsageHour, options?: { priming?: boolean }) {
    if (this.#tracked.length) {
      const states = await this.#store.loadMany(this.#tracked);
      const index = (hour.start - this.#start) / HOUR_SECONDS;
      for (const id of this.#tracked) {
        const key = seriesKey(id);
        const state = states.get(key);
        const list = this.bands.get(key);
        if (list && state)
          list[index] = bandPoint(state, hour.start / HOUR_SECONDS, detectionSettingsFor(this.#config, id));
      }
    }
    return this.#inner.evaluate(hour, options);
  }
}
