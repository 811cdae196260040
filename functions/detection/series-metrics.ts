// One hour's figures per series (project, API key): what the detector decides on and reports.
import type { UsageRow } from '../core/usage.ts';
import { estimateUsd, type PriceLookup } from './model-price.ts';

export interface SeriesId {
  projectId: string;
  /** null: the project's usage without an API key, a series of its own. */
  apiKeyId: string | null;
}

export interface SeriesHourMetrics extends SeriesId {
  /** Input (cached included) + output. */
  tokens: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  requests: number;
  usd: number;
  /** The model with the most tokens this hour. */
  topModel: string | null;
}

/** Stable text key of a series; also the DynamoDB partition key's suffix. */
export const seriesKey = (s: SeriesId): string => `${s.projectId}#${s.apiKeyId ?? '-'}`;

export function emptyMetrics(id: SeriesId): SeriesHourMetrics {
  return {
    projectId: id.projectId,
    apiKeyId: id.apiKeyId,
    tokens: 0,
    inputTokens: 0,
    cachedInputTokens: 0,
    outputTokens: 0,
    requests: 0,
    usd: 0,
    topModel: null,
  };
}

/** Sums an hour's rows per series; rows of one series and model add up. */
export function seriesMetrics(rows: readonly UsageRow[], price: PriceLookup): Map<string, SeriesHourMetrics> {
  const out = new Map<string, SeriesHourMetrics>();
  const modelTokens = new Map<string, Map<string | null, number>>();
  for (const row of rows) {
    const key = seriesKey(row);
    let m = out.get(key);
    if (!m) {
      m = emptyMetrics(row);
      out.set(key, m);
      modelTokens.set(key, new Map());
    }
    const tokens = row.inputTokens + row.outputTokens;
    m.tokens += tokens;
    m.inputTokens += row.inputTokens;
    m.cachedInputTokens += row.cachedInputTokens;
    m.outputTokens += row.outputTokens;
    m.requests += row.requests;
    m.usd += estimateUsd(price(row.model), row);
    const byModel = modelTokens.get(key);
    byModel?.set(row.model, (byModel.get(row.model) ?? 0) + tokens);
  }
  for (const [key, m] of out) {
    let best = -1;
    for (const [model, tokens] of modelTokens.get(key) ?? []) {
      if (tokens > best) {
        best = tokens;
        m.topModel = model;
      }
    }
  }
  return out;
}
