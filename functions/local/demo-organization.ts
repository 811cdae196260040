// The demo's organization: a small simulated org (a few projects, dozens of keys) with two planted
// incidents a person would want to hear about: a key leaked and used at night, and a runaway loop.
import type { UsageRow } from '../core/usage.ts';
import { HOUR_SECONDS } from '../core/usage.ts';
import { type SimulatedOrg, type SimulatedUsageRow, simulateOrganization } from './simulated-org.ts';

export interface PlantedIncident {
  kind: 'leaked_key' | 'runaway_loop';
  projectId: string;
  apiKeyId: string;
  start: number;
  hours: number;
  description: string;
}

export interface DemoOrganization {
  org: SimulatedOrg;
  planted: PlantedIncident[];
}

/** Monday 2026-11-02 00:00 UTC: recent dates read naturally in the demo's messages. */
export const DEMO_START = Date.UTC(2026, 10, 2) / 1000;
const WEEK = 7 * 24 * HOUR_SECONDS;

export function demoOrganization(): DemoOrganization {
  const base = simulateOrganization({
    seed: 20261102,
    keys: 36,
    projects: 5,
    weeks: 2,
    start: DEMO_START,
    incidents: false,
  });
  const meanTokens = meanHourlyTokensPerKey(base);
  const busiest = [...meanTokens].sort((a, b) => b[1] - a[1]);
  const loopKey = base.keys.find((k) => k.id === busiest[0]?.[0]);
  const leakKey = base.keys.find((k) => k.id === busiest[3]?.[0]);
  if (!loopKey || !leakKey) throw new Error('demo organization has too few active keys');

  const day8 = DEMO_START + WEEK;
  const planted: PlantedIncident[] = [
    {
      kind: 'runaway_loop',
      projectId: loopKey.projectId,
      apiKeyId: loopKey.id,
      start: day8 + 14 * HOUR_SECONDS,
      hours: 2,
      description: 'a retry loop: 15x the requests at the same size, for two hours from 14:00 UTC',
    },
    {
      kind: 'leaked_key',
      projectId: leakKey.projectId,
      apiKeyId: leakKey.id,
      start: day8 + 25 * HOUR_SECONDS,
      hours: 6,
      description: 'a leaked key used from 01:00 UTC for six hours with an expensive model',
    },
  ];
  const leakTokens = Math.max(2_000_000, 8 * (meanTokens.get(leakKey.id) ?? 0));

  const overlay = <R extends UsageRow>(hourStart: number, rows: R[], extra: (row: UsageRow) => R): R[] => {
    const out = rows.map((row) => ({ ...row }));
    for (const incident of planted) {
      if (hourStart < incident.start || hourStart >= incident.start + incident.hours * HOUR_SECONDS) continue;
      if (incident.kind === 'runaway_loop') {
        for (const row of out) {
          if (row.apiKeyId !== incident.apiKeyId) continue;
          row.inputTokens *= 15;
          row.cachedInputTokens *= 15;
          row.outputTokens *= 15;
          row.requests *= 15;
        }
      } else {
        out.push(
          extra({
            projectId: incident.projectId,
            apiKeyId: incident.apiKeyId,
            model: 'gpt-4.1-2025-04-14',
            inputTokens: Math.round(leakTokens * 0.8),
            cachedInputTokens: 0,
            outputTokens: Math.round(leakTokens * 0.2),
            requests: Math.round(leakTokens / 2500),
          }),
        );
      }
    }
    return out;
  };

  const org: SimulatedOrg = {
    ...base,
    usageAt: (hourStart) => overlay(hourStart, base.usageAt(hourStart), (row) => row),
    usageDetailAt: (hourStart) =>
      overlay<SimulatedUsageRow>(hourStart, base.usageDetailAt(hourStart), (row) => ({
        ...row,
        batch: false,
        userId: null,
        serviceTier: 'default',
      })),
  };
  return { org, planted };
}

function meanHourlyTokensPerKey(org: SimulatedOrg): Map<string, number> {
  const totals = new Map<string, number>();
  const hours = 7 * 24;
  for (let i = 0; i < hours; i++) {
    for (const row of org.usageAt(org.start + i * HOUR_SECONDS)) {
      if (!row.apiKeyId) continue;
      totals.set(row.apiKeyId, (totals.get(row.apiKeyId) ?? 0) + row.inputTokens + row.outputTokens);
    }
  }
  for (const [key, total] of totals) totals.set(key, total / hours);
  return totals;
}
