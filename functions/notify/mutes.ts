// Which configured mute, if any, silences an alert.
import type { SentinelConfig } from '../config/config-schema.ts';
import type { Alert } from '../core/alert.ts';

export type Mute = SentinelConfig['mutes'][number];

/**
 * A mute covers an alert when every id it names matches (projectId, apiKeyId or both) and its `until`
 * is still ahead at the alert's hour. A date without a time ("2025-03-07") ends at 00:00 UTC that day.
 */
export function coveringMute(alert: Alert, mutes: readonly Mute[]): Mute | undefined {
  const hourMs = alert.bucketStart * 1000;
  return mutes.find(
    (m) =>
      (m.projectId === undefined || m.projectId === alert.projectId) &&
      (m.apiKeyId === undefined || m.apiKeyId === alert.apiKeyId) &&
      Date.parse(m.until) > hourMs,
  );
}
