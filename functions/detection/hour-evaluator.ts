// Evaluates one closed hour for every series in it, plus the series with an open incident:
// batch-load their states, run the pure detector per series, batch-write the states back.
// Replaying an hour already applied changes nothing and alerts nothing.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SentinelConfig } from '../config/config-schema.ts';
import type { Alert } from '../core/alert.ts';
import type { UsageHour } from '../core/usage.ts';
import type { BatchOptions } from '../state/batch-io.ts';
import { OpenIncidentsIndex } from '../state/open-incidents-index.ts';
import { SeriesStateStore } from '../state/series-state-store.ts';
import { detectSeriesHour } from './detect-series-hour.ts';
import { detectionSettingsFor } from './detection-settings.ts';
import { priceLookup } from './model-price.ts';
import { isMuted } from './mutes.ts';
import { emptyMetrics, type SeriesId, seriesKey, seriesMetrics } from './series-metrics.ts';
import type { SeriesState } from './series-state.ts';

export interface HourEvaluatorDeps {
  client: DynamoDBClient;
  tableName: string;
  config: SentinelConfig;
  batch?: BatchOptions;
}

export interface EvaluateOptions {
  /** Backfill before alerts start (a deployment's first week): learn, alert nothing. */
  priming?: boolean;
  /** Keeps the hour's alerts (the outbox) before any series state is written. */
  beforeCommit?: (alerts: Alert[]) => Promise<void>;
}

export interface HourEvaluation {
  alerts: Alert[];
  /** Series whose state this hour changed. */
  seriesEvaluated: number;
}

export class HourEvaluator {
  readonly #config: SentinelConfig;
  readonly #states: SeriesStateStore;
  readonly #openIncidents: OpenIncidentsIndex;
  readonly #price: ReturnType<typeof priceLookup>;

  constructor(deps: HourEvaluatorDeps) {
    this.#config = deps.config;
    this.#states = new SeriesStateStore(deps.client, deps.tableName, deps.batch);
    this.#openIncidents = new OpenIncidentsIndex(deps.client, deps.tableName);
    this.#price = priceLookup(deps.config.prices);
  }

  async evaluate(hour: UsageHour, options: EvaluateOptions = {}): Promise<HourEvaluation> {
    const metrics = seriesMetrics(hour.rows, this.#price);
    const openBefore = await this.#openIncidents.read();
    const ids = new Map<string, SeriesId>();
    for (const m of metrics.values()) ids.set(seriesKey(m), { projectId: m.projectId, apiKeyId: m.apiKeyId });
    for (const id of openBefore) ids.set(seriesKey(id), id);
    const states = await this.#states.loadMany([...ids.values()]);

    const alerts: Alert[] = [];
    const changed: Array<{ id: SeriesId; state: SeriesState }> = [];
    const openAfter: SeriesId[] = [];
    for (const [key, id] of ids) {
      const result = detectSeriesHour({
        state: states.get(key),
        metrics: metrics.get(key) ?? emptyMetrics(id),
        hourStart: hour.start,
        settings: detectionSettingsFor(this.#config, id),
        notifications: this.#config.notifications,
        priming: options.priming,
      });
      if (result.applied && result.state) changed.push({ id, state: result.state });
      if (result.state?.incident) openAfter.push(id);
      alerts.push(...result.alerts);
    }

    for (const alert of alerts) if (isMuted(this.#config, alert)) alert.muted = true;
    alerts.sort(
      (a, b) =>
        a.bucketStart - b.bucketStart || a.projectId.localeCompare(b.projectId) || a.id.localeCompare(b.id),
    );
    // The alerts are kept before the states that produced them: a replay of this hour after a failure
    // finds the states applied and emits nothing, so alerts recorded later could be lost.
    await options.beforeCommit?.(alerts);
    await this.#states.saveMany(changed);
    const sortIds = (list: SeriesId[]) => list.map(seriesKey).sort().join('\n');
    if (sortIds(openAfter) !== sortIds(openBefore)) {
      openAfter.sort((a, b) => (seriesKey(a) < seriesKey(b) ? -1 : 1));
      await this.#openIncidents.write(openAfter);
    }
    return { alerts, seriesEvaluated: changed.length };
  }
}
