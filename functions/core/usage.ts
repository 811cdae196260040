// What the core knows of usage: hour-aligned buckets of per-(project, key, model) rows.
export const HOUR_SECONDS = 3600;

export interface UsageRow {
  projectId: string;
  /** null: usage with no API key (for example from the playground), one series per project. */
  apiKeyId: string | null;
  model: string | null;
  /** All input tokens, cached ones included (the API's `input_tokens`). */
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  requests: number;
}

export interface UsageHour {
  /** Unix seconds, aligned to the hour. */
  start: number;
  rows: UsageRow[];
}

/** Reads closed hours [start, end) in order; every hour of the range is present, empty ones included. */
export interface UsageSource {
  readHours(range: { start: number; end: number }, deadline: Deadline): Promise<UsageHour[]>;
}

/** Wall-clock limit (epoch ms) for a piece of work, so a run stops cleanly before Lambda kills it. */
export interface Deadline {
  atMs: number;
}

export const alignToHour = (unixSeconds: number): number =>
  Math.floor(unixSeconds / HOUR_SECONDS) * HOUR_SECONDS;
