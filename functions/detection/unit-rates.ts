// What a series' tokens cost and how large its requests are, learned from its ordinary hours; prompt bloat
// is a jump in request size against them.
import type { DetectionConfig } from '../config/config-schema.ts';
import type { SeriesHourMetrics } from './series-metrics.ts';
import type { SeriesState } from './series-state.ts';

/** Cost per token, tokens per request and their spread learn this fast (about a day of hours). */
const RATE = 0.05;
/** No key's request size is trusted to be steadier than +-5%; a deviation counts at most 2.5 spreads. */
const MIN_PER_REQUEST_SPREAD = 0.05;
const HUBER_PER_REQUEST = 2.5;
/**
 * An hour of fewer requests than this says little of a key's traffic: one large prompt can make it. Alone
 * it opens nothing (a runaway loop or a leaked key makes many calls), nor does it show prompt bloat.
 */
const FEW_REQUESTS = 10;
/**
 * Prompt bloat: tokens per request at least this many times the usual (bloat runs at 5-10x; 3x is what a
 * job's or another model's larger requests can make of a key's mix).
 */
const BLOAT_RATIO = 4;
/**
 * ... and at least `sensitivity` of its usual deviations (as sigmas) away (with tokens past minRatio, not
 * only half-way: a nightly job's larger requests look the same on a night it runs twice as long).
 */
const PER_REQUEST_SPREAD_TO_SIGMA = 1.25;

/** Folds an ordinary hour with usage into the series' cost per token and request size. */
export function learnUnitRates(state: SeriesState, m: SeriesHourMetrics): void {
  const usdRate = m.usd / m.tokens;
  const perRequest = m.requests > 0 ? m.tokens / m.requests : state.tokensPerRequest;
  state.usdPerToken =
    state.usdPerToken > 0 ? state.usdPerToken + RATE * (usdRate - state.usdPerToken) : usdRate;
  if (state.tokensPerRequest > 0 && m.requests > 0) {
    const deviation = Math.min(
      Math.abs(Math.log(perRequest / state.tokensPerRequest)),
      HUBER_PER_REQUEST * Math.max(state.perRequestSpread, MIN_PER_REQUEST_SPREAD),
    );
    state.perRequestSpread += RATE * (deviation - state.perRequestSpread);
  }
  state.tokensPerRequest =
    state.tokensPerRequest > 0
      ? state.tokensPerRequest + RATE * (perRequest - state.tokensPerRequest)
      : perRequest;
}

export const fewRequests = (m: SeriesHourMetrics): boolean => m.requests > 0 && m.requests < FEW_REQUESTS;

/**
 * Each request carries several times the series' usual tokens, judged against its own spread of request
 * sizes, over enough requests to say so.
 */
export function requestsBloated(state: SeriesState, m: SeriesHourMetrics, cfg: DetectionConfig): boolean {
  if (fewRequests(m) || state.tokensPerRequest <= 0 || m.requests <= 0) return false;
  const perRequestLog = Math.log(m.tokens / m.requests / state.tokensPerRequest);
  return (
    perRequestLog >=
    Math.max(Math.log(BLOAT_RATIO), cfg.sensitivity * PER_REQUEST_SPREAD_TO_SIGMA * state.perRequestSpread)
  );
}
