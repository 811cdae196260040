// A simulated organization's usage and costs as the API's own pages: buckets of 1m/1h/1d, any grouping,
// the filters, an unaligned first bucket, the still-filling current hour, late revisions of closed hours,
// and results split across pages. Used by the stand-in server and to write `backtest --input` files.
import { DEFAULT_PRICES, FALLBACK_PRICE } from '../config/default-prices.ts';
import { HOUR_SECONDS } from '../core/usage.ts';
import type { SimulatedOrg, SimulatedUsageRow } from './simulated-org.ts';

export type BucketWidth = '1m' | '1h' | '1d';
export const BUCKET_SECONDS: Record<BucketWidth, number> = { '1m': 60, '1h': 3600, '1d': 86_400 };
/** The API's page sizes, in buckets (spec 2.3.0). */
export const BUCKET_LIMITS: Record<BucketWidth, { default: number; max: number }> = {
  '1m': { default: 60, max: 1440 },
  '1h': { default: 24, max: 168 },
  '1d': { default: 7, max: 31 },
};
export const USAGE_GROUP_FIELDS = [
  'project_id',
  'user_id',
  'api_key_id',
  'model',
  'batch',
  'service_tier',
] as const;
export type UsageGroupField = (typeof USAGE_GROUP_FIELDS)[number];
export const COSTS_GROUP_FIELDS = ['project_id', 'line_item', 'api_key_id'] as const;
export type CostsGroupField = (typeof COSTS_GROUP_FIELDS)[number];
/**
 * Results per page before a bucket's results continue on the next page. Not documented by OpenAI;
 * large grouped pages do get split, and clients must merge them, so the stand-in does it too.
 */
export const DEFAULT_MAX_RESULTS_PER_PAGE = 2_000;

export interface UsageQuery {
  startTime: number;
  endTime?: number;
  bucketWidth: BucketWidth;
  /** Buckets per page. */
  limit: number;
  groupBy: readonly UsageGroupField[];
  projectIds?: readonly string[];
  userIds?: readonly string[];
  apiKeyIds?: readonly string[];
  models?: readonly string[];
  batch?: boolean;
}

export interface RenderOptions {
  /** Unix seconds of "now": later buckets are not served, recent ones are still filling. Default: all final. */
  now?: number;
  /** Usage arrives up to this late, so a closed hour keeps growing this long. Default 15. */
  revisionMinutes?: number;
  maxResultsPerPage?: number;
}

/** Where the next page starts: a bucket, and how many of its results earlier pages already held. */
export interface PageCursor {
  bucketStart: number;
  resultOffset: number;
}

export interface UsageResultJson {
  object: 'organization.usage.completions.result';
  input_tokens: number;
  input_cached_tokens: number;
  input_uncached_tokens: number;
  output_tokens: number;
  num_model_requests: number;
  project_id: string | null;
  user_id: string | null;
  api_key_id: string | null;
  model: string | null;
  batch: boolean | null;
  service_tier: string | null;
}

export interface CostsResultJson {
  object: 'organization.costs.result';
  amount: { value: number | string; currency: 'usd' };
  line_item: string | null;
  project_id: string | null;
  api_key_id: string | null;
  quantity: number | null;
  quantity_unit: string | null;
}

export interface PageJson<R> {
  object: 'page';
  data: Array<{ object: 'bucket'; start_time: number; end_time: number; results: R[] }>;
  has_more: boolean;
  next_page: string | null;
}
export type UsagePageJson = PageJson<UsageResultJson>;
export type CostsPageJson = PageJson<CostsResultJson>;

export function encodeCursor(cursor: PageCursor): string {
  return `page_${Buffer.from(`${cursor.bucketStart}:${cursor.resultOffset}`).toString('base64url')}`;
}

export function decodeCursor(text: string): PageCursor | undefined {
  if (!text.startsWith('page_')) return undefined;
  const match = /^(\d+):(\d+)$/.exec(Buffer.from(text.slice(5), 'base64url').toString('utf8'));
  if (!match) return undefined;
  return { bucketStart: Number(match[1]), resultOffset: Number(match[2]) };
}

/** The end of the bucket starting at `t`: the next boundary of the width (the first may be short). */
function bucketEnd(t: number, width: BucketWidth, endTime: number | undefined): number {
  const size = BUCKET_SECONDS[width];
  const boundary = Math.floor(t / size) * size + size;
  return endTime === undefined ? boundary : Math.min(boundary, endTime);
}

/**
 * Share of an hour's final counts visible for its slice [a, b) at `now`: each token is reported after a
 * delay uniform in [0, R], so an hour fills while it runs and for R more seconds after it closes.
 */
export function visibleShare(a: number, b: number, now: number | undefined, revisionSeconds: number): number {
  if (now === undefined || now - b >= revisionSeconds) return (b - a) / HOUR_SECONDS;
  const reported = (x: number): number => {
    if (x <= 0) return 0;
    if (revisionSeconds <= 0) return x;
    return x <= revisionSeconds
      ? (x * x) / (2 * revisionSeconds)
      : revisionSeconds / 2 + (x - revisionSeconds);
  };
  return (reported(now - a) - reported(now - b)) / HOUR_SECONDS;
}

/** Rows of [a, b) at `now`, hour by hour, scaled by what is visible. */
function rowsForSpan(
  org: SimulatedOrg,
  a: number,
  b: number,
  options: RenderOptions,
  hourCache: Map<number, SimulatedUsageRow[]>,
): SimulatedUsageRow[] {
  const revisionSeconds = (options.revisionMinutes ?? 15) * 60;
  const out: SimulatedUsageRow[] = [];
  for (let hour = Math.floor(a / HOUR_SECONDS) * HOUR_SECONDS; hour < b; hour += HOUR_SECONDS) {
    const share = visibleShare(
      Math.max(a, hour),
      Math.min(b, hour + HOUR_SECONDS),
      options.now,
      revisionSeconds,
    );
    if (share <= 0) continue;
    let rows = hourCache.get(hour);
    if (!rows) {
      rows = org.usageDetailAt(hour);
      hourCache.set(hour, rows);
    }
    for (const row of rows) {
      if (share >= 1) {
        out.push(row);
        continue;
      }
      const requests = Math.floor(row.requests * share);
      const inputTokens = Math.floor(row.inputTokens * share);
      if (requests === 0 && inputTokens === 0) continue;
      out.push({
        ...row,
        requests,
        inputTokens,
        cachedInputTokens: Math.min(inputTokens, Math.floor(row.cachedInputTokens * share)),
        outputTokens: Math.floor(row.outputTokens * share),
      });
    }
  }
  return out;
}

function matchesUsageFilters(row: SimulatedUsageRow, q: UsageQuery): boolean {
  if (q.projectIds?.length && !q.projectIds.includes(row.projectId)) return false;
  if (q.apiKeyIds?.length && (row.apiKeyId === null || !q.apiKeyIds.includes(row.apiKeyId))) return false;
  if (q.userIds?.length && (row.userId === null || !q.userIds.includes(row.userId))) return false;
  if (q.models?.length && (row.model === null || !q.models.includes(row.model))) return false;
  if (q.batch !== undefined && row.batch !== q.batch) return false;
  return true;
}

function usageResults(rows: readonly SimulatedUsageRow[], q: UsageQuery): UsageResultJson[] {
  const by = new Set(q.groupBy);
  const groups = new Map<string, UsageResultJson>();
  for (const row of rows) {
    if (!matchesUsageFilters(row, q)) continue;
    const result: UsageResultJson = {
      object: 'organization.usage.completions.result',
      input_tokens: 0,
      input_cached_tokens: 0,
      input_uncached_tokens: 0,
      output_tokens: 0,
      num_model_requests: 0,
      project_id: by.has('project_id') ? row.projectId : null,
      user_id: by.has('user_id') ? row.userId : null,
      api_key_id: by.has('api_key_id') ? row.apiKeyId : null,
      model: by.has('model') ? row.model : null,
      batch: by.has('batch') ? row.batch : null,
      service_tier: by.has('service_tier') ? row.serviceTier : null,
    };
    const key = JSON.stringify([
      result.project_id,
      result.user_id,
      result.api_key_id,
      result.model,
      result.batch,
      result.service_tier,
    ]);
    const group = groups.get(key) ?? result;
    groups.set(key, group);
    group.input_tokens += row.inputTokens;
    group.input_cached_tokens += row.cachedInputTokens;
    group.input_uncached_tokens += row.inputTokens - row.cachedInputTokens;
    group.output_tokens += row.outputTokens;
    group.num_model_requests += row.requests;
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** Pages buckets of [startTime, endTime) (capped at `now`), from the cursor on. */
function renderPage<R>(
  q: { startTime: number; endTime?: number; bucketWidth: BucketWidth; limit: number },
  cursor: PageCursor | undefined,
  options: RenderOptions,
  resultsOf: (a: number, b: number) => R[],
): PageJson<R> {
  const maxResults = Math.max(1, options.maxResultsPerPage ?? DEFAULT_MAX_RESULTS_PER_PAGE);
  // The current, still-filling bucket is served; buckets after it are not.
  const stop = Math.min(
    q.endTime ?? Number.POSITIVE_INFINITY,
    options.now === undefined ? Infinity : options.now + 1,
  );
  const page: PageJson<R> = { object: 'page', data: [], has_more: false, next_page: null };
  let t = cursor?.bucketStart ?? q.startTime;
  let offset = cursor?.resultOffset ?? 0;
  let resultsOnPage = 0;
  while (t < stop && page.data.length < q.limit) {
    const end = bucketEnd(t, q.bucketWidth, q.endTime);
    const all = resultsOf(t, end);
    const room = maxResults - resultsOnPage;
    if (room <= 0 && offset < all.length) {
      // The page is full: this bucket's results start the next page.
      page.has_more = true;
      page.next_page = encodeCursor({ bucketStart: t, resultOffset: offset });
      return page;
    }
    const results = all.slice(offset, offset + room);
    // A bucket with nothing left since its cursor was made (it can only grow, but be safe) is skipped.
    if (results.length > 0 || offset === 0) {
      page.data.push({ object: 'bucket', start_time: t, end_time: end, results });
      resultsOnPage += results.length;
    }
    if (offset + results.length < all.length) {
      page.has_more = true;
      page.next_page = encodeCursor({ bucketStart: t, resultOffset: offset + results.length });
      return page;
    }
    offset = 0;
    t = end;
  }
  if (t < stop) {
    page.has_more = true;
    page.next_page = encodeCursor({ bucketStart: t, resultOffset: 0 });
  }
  return page;
}

/** One page of GET /organization/usage/completions for the query, from `cursor` on. */
export function renderUsagePage(
  org: SimulatedOrg,
  q: UsageQuery,
  cursor: PageCursor | undefined,
  options: RenderOptions = {},
  hourCache = new Map<number, SimulatedUsageRow[]>(),
): UsagePageJson {
  return renderPage(q, cursor, options, (a, b) =>
    usageResults(rowsForSpan(org, a, b, options, hourCache), q),
  );
}

/**
 * Every page of hourly usage of [start, end), grouped by project_id, api_key_id and model, exactly as
 * the API returns them (final counts): the lines of a `backtest --input` file.
 */
export function renderUsagePages(
  org: SimulatedOrg,
  range: { start: number; end: number; limit?: number; maxResultsPerPage?: number },
): UsagePageJson[] {
  const q: UsageQuery = {
    startTime: range.start,
    endTime: range.end,
    bucketWidth: '1h',
    limit: range.limit ?? BUCKET_LIMITS['1h'].max,
    groupBy: ['project_id', 'api_key_id', 'model'],
  };
  const options: RenderOptions =
    range.maxResultsPerPage === undefined ? {} : { maxResultsPerPage: range.maxResultsPerPage };
  const pages: UsagePageJson[] = [];
  const cache = new Map<number, SimulatedUsageRow[]>();
  let cursor: PageCursor | undefined;
  for (;;) {
    const page = renderUsagePage(org, q, cursor, options, cache);
    pages.push(page);
    cache.clear();
    if (!page.next_page) return pages;
    cursor = decodeCursor(page.next_page);
  }
}

export interface CostsQuery {
  startTime: number;
  endTime?: number;
  limit: number;
  groupBy: readonly CostsGroupField[];
  projectIds?: readonly string[];
  apiKeyIds?: readonly string[];
}

/** One page of GET /organization/costs: daily list-price dollars of the simulated tokens. */
export function renderCostsPage(
  org: SimulatedOrg,
  q: CostsQuery,
  cursor: PageCursor | undefined,
  options: RenderOptions & { amountsAsStrings?: boolean } = {},
): CostsPageJson {
  const by = new Set(q.groupBy);
  const cache = new Map<number, SimulatedUsageRow[]>();
  return renderPage({ ...q, bucketWidth: '1d' }, cursor, options, (a, b) => {
    const groups = new Map<string, { result: CostsResultJson; usd: number; quantity: number }>();
    for (const row of rowsForSpan(org, a, b, options, cache)) {
      if (q.projectIds?.length && !q.projectIds.includes(row.projectId)) continue;
      if (q.apiKeyIds?.length && (row.apiKeyId === null || !q.apiKeyIds.includes(row.apiKeyId))) continue;
      const price = priceOf(row.model ?? '');
      const items: Array<{ item: string | null; tokens: number; usd: number }> = [
        { item: 'input', tokens: row.inputTokens - row.cachedInputTokens, usd: price.input },
        { item: 'cached input', tokens: row.cachedInputTokens, usd: price.cachedInput },
        { item: 'output', tokens: row.outputTokens, usd: price.output },
      ].map((x) => ({ item: `${row.model}, ${x.item}`, tokens: x.tokens, usd: (x.tokens * x.usd) / 1e6 }));
      const lines = by.has('line_item')
        ? items
        : [{ item: null, tokens: 0, usd: items.reduce((sum, x) => sum + x.usd, 0) }];
      for (const { item: lineItem, tokens, usd } of lines) {
        const result: CostsResultJson = {
          object: 'organization.costs.result',
          amount: { value: 0, currency: 'usd' },
          line_item: lineItem,
          project_id: by.has('project_id') ? row.projectId : null,
          api_key_id: by.has('api_key_id') ? row.apiKeyId : null,
          quantity: by.has('line_item') ? 0 : null,
          quantity_unit: by.has('line_item') ? 'tokens' : null,
        };
        const key = JSON.stringify([result.line_item, result.project_id, result.api_key_id]);
        const group = groups.get(key) ?? { result, usd: 0, quantity: 0 };
        groups.set(key, group);
        group.usd += usd;
        group.quantity += tokens;
      }
    }
    return [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, g]) => {
        const value = Math.round(g.usd * 1e6) / 1e6;
        return {
          ...g.result,
          amount: { value: options.amountsAsStrings ? String(value) : value, currency: 'usd' as const },
          quantity: g.result.quantity === null ? null : g.quantity,
        };
      });
  });
}

function priceOf(model: string): { input: number; cachedInput: number; output: number } {
  let best: string | undefined;
  for (const prefix of Object.keys(DEFAULT_PRICES)) {
    if (model.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return (best ? DEFAULT_PRICES[best] : undefined) ?? FALLBACK_PRICE;
}
