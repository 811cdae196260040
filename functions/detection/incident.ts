// Severity levels, an incident's duration, deterministic alert ids and the alert's shape for one series' hour.
import { createHash } from 'node:crypto';
import { type Alert, type AlertType, SEVERITIES, type Severity } from '../core/alert.ts';
import { HOUR_SECONDS } from '../core/usage.ts';
import { seriesKey } from './series-metrics.ts';
import type { IncidentState } from './series-state.ts';

/**
 * Severity from the estimated USD over the baseline in the hour:
 * low < $5 <= medium < $25 <= high < $100 <= critical.
 */
export const SEVERITY_FLOORS_USD: readonly number[] = [0, 5, 25, 100];

export function severityIndex(excessUsd: number): number {
  let level = 0;
  for (let i = 0; i < SEVERITY_FLOORS_USD.length; i++)
    if (excessUsd >= (SEVERITY_FLOORS_USD[i] ?? 0)) level = i;
  return level;
}

/** From an incident's first hour to its last elevated one: what the recovery notice gives as its duration. */
export function incidentHours(incident: IncidentState): number {
  return incident.lastAbnormalHour - incident.startHour + 1;
}

export const severityAt = (index: number): Severity => SEVERITIES[Math.min(3, Math.max(0, index))] ?? 'low';

/** The same series, incident, event and hour always give the same id (dedupe across runs). */
export function alertId(
  series: { projectId: string; apiKeyId: string | null },
  incidentStartHour: number,
  type: AlertType,
  bucketHour: number,
): string {
  const text = `${seriesKey(series)}|${incidentStartHour * HOUR_SECONDS}|${type}|${bucketHour * HOUR_SECONDS}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export type AlertFigures = Omit<Alert, 'id' | 'names' | 'muted'>;

export function makeAlert(figures: AlertFigures): Alert {
  const id = alertId(
    figures,
    figures.incidentStart / HOUR_SECONDS,
    figures.type,
    figures.bucketStart / HOUR_SECONDS,
  );
  return { id, ...figures };
}
