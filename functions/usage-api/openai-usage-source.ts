// The live UsageSource: hourly buckets of GET /organization/usage/completions, grouped by project, key
// and model, every page followed, merged into one UsageHour per hour of the range.
import type { SentinelConfig } from '../config/config-schema.ts';
import {
  alignToHour,
  type Deadline,
  type UsageHour,
  type UsageRow,
  type UsageSource,
} from '../core/usage.ts';
import { AdminApiClient, type AdminApiClientOptions, type QueryParams } from './admin-api-client.ts';
import { UsageApiError } from './usage-api-error.ts';
import { usagePageSchema } from './usage-page-schema.ts';
import { UsageHourCollector } from './usage-pages-to-hours.ts';

export const USAGE_COMPLETIONS_PATH = '/organization/usage/completions';
/** The most hourly buckets one page may hold (the API's maximum for bucket_width=1h). */
export const HOURLY_PAGE_LIMIT = 168;
/** A cursor loop guard: 168 hours of even a huge org fit in far fewer pages. */
const MAX_PAGES_PER_READ = 10_000;

export type WatchConfig = SentinelConfig['watch'];

export interface OpenAiUsageSourceOptions extends AdminApiClientOptions {
  /** Which usage to read (config.watch); include-filters go to the API, exclusions apply here. */
  watch: WatchConfig;
}

export class OpenAiUsageSource implements UsageSource {
  readonly #client: AdminApiClient;
  readonly #watch: WatchConfig;

  constructor(options: OpenAiUsageSourceOptions) {
    this.#client = new AdminApiClient(options);
    this.#watch = options.watch;
  }

  /** Closes the client's keep-alive connections (tests, the command line); Lambda keeps them warm. */
  close(): Promise<void> {
    return this.#client.close();
  }

  /**
   * Hours [start, end) (both aligned to the hour by flooring), in order, empty ones included.
   * Throws UsageApiError; kind `deadline` means the hours were not read and stay pending.
   */
  async readHours(range: { start: number; end: number }, deadline: Deadline): Promise<UsageHour[]> {
    const start = alignToHour(range.start);
    const end = alignToHour(range.end);
    if (end <= start) return [];
    const collector = new UsageHourCollector();
    const keep = this.#keepRow();
    const baseQuery = this.#query(start, end);
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (let pages = 0; pages < MAX_PAGES_PER_READ; pages++) {
      const query: QueryParams = cursor ? [...baseQuery, ['page', cursor]] : baseQuery;
      const page = await this.#client.getJson(USAGE_COMPLETIONS_PATH, query, usagePageSchema, deadline);
      collector.addPage(page, keep);
      const next = page.next_page;
      if (!page.has_more || !next) return collector.hours({ start, end });
      if (seenCursors.has(next)) {
        throw new UsageApiError('schema', 'OpenAI usage API sent the same next_page cursor twice', {
          path: USAGE_COMPLETIONS_PATH,
        });
      }
      seenCursors.add(next);
      cursor = next;
    }
    throw new UsageApiError('schema', `OpenAI usage API kept paging past ${MAX_PAGES_PER_READ} pages`, {
      path: USAGE_COMPLETIONS_PATH,
    });
  }

  /** Repeated keys for arrays (`group_by=project_id&group_by=api_key_id`), as OpenAI's cookbook sends. */
  #query(start: number, end: number): QueryParams {
    const watch = this.#watch;
    const query: Array<[string, string]> = [
      ['start_time', String(start)],
      ['end_time', String(end)],
      ['bucket_width', '1h'],
      ['limit', String(HOURLY_PAGE_LIMIT)],
      ['group_by', 'project_id'],
      ['group_by', 'api_key_id'],
      ['group_by', 'model'],
    ];
    for (const id of watch.projectIds) query.push(['project_ids', id]);
    for (const id of watch.apiKeyIds) query.push(['api_key_ids', id]);
    for (const model of watch.models) query.push(['models', model]);
    if (watch.batch === 'exclude') query.push(['batch', 'false']);
    if (watch.batch === 'only') query.push(['batch', 'true']);
    return query;
  }

  #keepRow(): (row: UsageRow) => boolean {
    const excludedProjects = new Set(this.#watch.excludeProjectIds);
    const excludedKeys = new Set(this.#watch.excludeApiKeyIds);
    return (row) =>
      !excludedProjects.has(row.projectId) && (row.apiKeyId === null || !excludedKeys.has(row.apiKeyId));
  }
}
