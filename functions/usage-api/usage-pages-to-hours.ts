// Turns usage pages (grouped by project_id, api_key_id and optionally model) into the core's hours.
// Shared by the live client and by `backtest --input`, which reads the same pages from a file.
import { alignToHour, HOUR_SECONDS, type UsageHour, type UsageRow } from '../core/usage.ts';
import type { CompletionsResult, UsagePage } from './usage-page-schema.ts';

/**
 * Usage with no project in its group. The API fills `project_id` whenever it groups by it, so this only
 * shows up for pages grouped otherwise; the rows still count, as one series of their own.
 */
export const NO_PROJECT_ID = '(none)';

export function toUsageRow(result: CompletionsResult): UsageRow {
  return {
    projectId: result.project_id ?? NO_PROJECT_ID,
    apiKeyId: result.api_key_id ?? null,
    model: result.model ?? null,
    inputTokens: result.input_tokens,
    cachedInputTokens: result.input_cached_tokens ?? 0,
    outputTokens: result.output_tokens,
    requests: result.num_model_requests,
  };
}

/** Accumulates buckets from any number of pages, hour by hour. */
export class UsageHourCollector {
  readonly #rowsByHour = new Map<number, UsageRow[]>();

  /**
   * A bucket's results may be split across pages, and the same hour may come on several pages with
   * different results: results are appended, never replaced. The API groups by (project, key, model),
   * so two results of one group in one hour do not occur; when they would, they add up downstream.
   */
  addPage(page: UsagePage, keep: (row: UsageRow) => boolean = () => true): void {
    for (const bucket of page.data) {
      const hour = alignToHour(bucket.start_time);
      let rows = this.#rowsByHour.get(hour);
      if (!rows) {
        rows = [];
        this.#rowsByHour.set(hour, rows);
      }
      for (const result of bucket.results) {
        const row = toUsageRow(result);
        if (keep(row)) rows.push(row);
      }
    }
  }

  /** Every hour of [start, end) in order, empty ones included; hours outside the range are dropped. */
  hours(range: { start: number; end: number }): UsageHour[] {
    const out: UsageHour[] = [];
    for (let hour = alignToHour(range.start); hour < range.end; hour += HOUR_SECONDS) {
      out.push({ start: hour, rows: this.#rowsByHour.get(hour) ?? [] });
    }
    return out;
  }

  /** The hours seen, from the first to the last, empty ones between them included. */
  allHours(): UsageHour[] {
    const seen = [...this.#rowsByHour.keys()];
    if (seen.length === 0) return [];
    return this.hours({ start: Math.min(...seen), end: Math.max(...seen) + HOUR_SECONDS });
  }
}

/** Pages (for example the lines of a `--input` file) to hours: the range given, or all hours seen. */
export function usageHoursFromPages(
  pages: Iterable<UsagePage>,
  range?: { start: number; end: number },
): UsageHour[] {
  const collector = new UsageHourCollector();
  for (const page of pages) collector.addPage(page);
  return range ? collector.hours(range) : collector.allHours();
}
