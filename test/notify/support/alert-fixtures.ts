// Alerts as the core would produce them, for the notify tests.
import type { Alert } from '../../../functions/core/alert.ts';

export const HOUR = 3600;
/** 2025-03-04 14:00 UTC. */
export const SPIKE_HOUR = Date.UTC(2025, 2, 4, 14) / 1000;

export function spikeAlert(overrides: Partial<Alert> = {}): Alert {
  const base: Alert = {
    id: 'spike-proj_abc-key_123-1741096800',
    type: 'spike',
    projectId: 'proj_abc',
    apiKeyId: 'key_123',
    bucketStart: SPIKE_HOUR,
    incidentStart: SPIKE_HOUR - HOUR,
    metric: 'tokens',
    observed: 1_240_000,
    expected: 100_000,
    severity: 'high',
    usdObserved: 6.2,
    usdExpected: 0.5,
    requestsObserved: 1200,
    requestsExpected: 100,
    excessTokensTotal: 2_300_000,
    excessUsdTotal: 11.5,
    topModel: 'gpt-4o-2024-08-06',
    recentTokens: [...Array.from({ length: 22 }, (_, i) => 90_000 + (i % 3) * 10_000), 700_000, 1_240_000],
    names: { project: 'Checkout <prod> & co', apiKey: 'batch-worker', redactedKey: 'sk-proj-****abcd' },
  };
  return { ...base, ...overrides };
}

export function resolvedAlert(overrides: Partial<Alert> = {}): Alert {
  return spikeAlert({
    id: 'resolved-proj_abc-key_123-1741107600',
    type: 'resolved',
    bucketStart: SPIKE_HOUR + 3 * HOUR,
    observed: 95_000,
    expected: 100_000,
    usdObserved: 0.48,
    usdExpected: 0.5,
    requestsObserved: 95,
    durationHours: 2,
    severity: 'high',
    ...overrides,
  });
}

/** `n` distinct spikes in one hour, with growing excess cost. */
export function manySpikes(n: number, hour = SPIKE_HOUR): Alert[] {
  return Array.from({ length: n }, (_, i) =>
    spikeAlert({
      id: `spike-proj_${i}-key_${i}-${hour}`,
      projectId: `proj_${i}`,
      apiKeyId: `key_${i}`,
      bucketStart: hour,
      excessUsdTotal: i + 1,
      names: { project: `Project ${i}`, apiKey: `key-name-${i}` },
    }),
  );
}
