// Daily USD per project from GET /organization/costs: the API's own bill, to check the token x price
// estimates against (costs come only in whole days, so alerts cannot use them directly).
import type { Deadline } from '../core/usage.ts';
import { AdminApiClient, type AdminApiClientOptions } from './admin-api-client.ts';
import { UsageApiError } from './usage-api-error.ts';
import { costsPageSchema } from './usage-page-schema.ts';
import { NO_PROJECT_ID } from './usage-pages-to-hours.ts';

export const COSTS_PATH = '/organization/costs';
const DAY_SECONDS = 86_400;
const MAX_PAGES = 100;

export interface DailyCosts {
  /** Unix seconds of the UTC day's start. */
  day: number;
  /** USD by project id (costs without a project under "(none)"). */
  usdByProject: Record<string, number>;
  totalUsd: number;
}

export class OpenAiDailyCosts {
  readonly #client: AdminApiClient;

  constructor(options: AdminApiClientOptions) {
    this.#client = new AdminApiClient(options);
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  /** The costs of the UTC day containing `day` (unix seconds). Throws UsageApiError. */
  async fetchDailyCosts(
    day: number,
    deadline: Deadline = { atMs: Date.now() + 60_000 },
  ): Promise<DailyCosts> {
    const start = Math.floor(day / DAY_SECONDS) * DAY_SECONDS;
    const base: Array<[string, string]> = [
      ['start_time', String(start)],
      ['end_time', String(start + DAY_SECONDS)],
      ['bucket_width', '1d'],
      ['group_by', 'project_id'],
      ['limit', '1'],
    ];
    const usdByProject: Record<string, number> = {};
    let totalUsd = 0;
    let cursor: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const query = cursor ? [...base, ['page', cursor] as const] : base;
      const page = await this.#client.getJson(COSTS_PATH, query, costsPageSchema, deadline);
      for (const bucket of page.data) {
        if (bucket.start_time < start || bucket.start_time >= start + DAY_SECONDS) continue;
        for (const result of bucket.results) {
          const currency = result.amount.currency?.toLowerCase();
          if (currency && currency !== 'usd') continue;
          const project = result.project_id ?? NO_PROJECT_ID;
          usdByProject[project] = (usdByProject[project] ?? 0) + result.amount.value;
          totalUsd += result.amount.value;
        }
      }
      if (!page.has_more || !page.next_page || page.next_page === cursor)
        return { day: start, usdByProject, totalUsd };
      cursor = page.next_page;
    }
    throw new UsageApiError('schema', `OpenAI costs API kept paging past ${MAX_PAGES} pages`, {
      path: COSTS_PATH,
    });
  }
}
