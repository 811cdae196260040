// Mutes from the configuration: a covered alert is still recorded, flagged `muted`, but not sent.
import type { SentinelConfig } from '../config/config-schema.ts';
import type { Alert } from '../core/alert.ts';

const DAY_MS = 86_400_000;

/** A date-only `until` mutes through the end of that day (UTC); a date-time until that instant. */
export function untilMs(until: string): number {
  const ms = Date.parse(until);
  return /^\d{4}-\d{2}-\d{2}$/.test(until) ? ms + DAY_MS : ms;
}

export function isMuted(
  config: SentinelConfig,
  alert: Pick<Alert, 'projectId' | 'apiKeyId' | 'bucketStart'>,
): boolean {
  return config.mutes.some(
    (m) =>
      (m.projectId === undefined || m.projectId === alert.projectId) &&
      (m.apiKeyId === undefined || m.apiKeyId === alert.apiKeyId) &&
      alert.bucketStart * 1000 < untilMs(m.until),
  );
}
