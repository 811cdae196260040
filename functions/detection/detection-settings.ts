// The detection settings of one series: the API key's override over the project's over the defaults.
import type { DetectionConfig, SentinelConfig } from '../config/config-schema.ts';
import type { SeriesId } from './series-metrics.ts';

export function detectionSettingsFor(config: SentinelConfig, id: SeriesId): DetectionConfig {
  const project = config.overrides.projects[id.projectId] ?? {};
  const key = id.apiKeyId === null ? {} : (config.overrides.apiKeys[id.apiKeyId] ?? {});
  return { ...config.detection, ...defined(project), ...defined(key) };
}

/** Drops keys set to undefined, so an absent override never hides the level below it. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
