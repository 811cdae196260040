import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { emptyMetrics, type SeriesHourMetrics } from '../../functions/detection/series-metrics.ts';
import { newSeriesState, type SeriesState } from '../../functions/detection/series-state.ts';
import { fewRequests, learnUnitRates, requestsBloated } from '../../functions/detection/unit-rates.ts';

const cfg = parseConfig({}).detection;

function hour(tokens: number, requests: number, usd = tokens / 1e6): SeriesHourMetrics {
  return { ...emptyMetrics({ projectId: 'proj_a', apiKeyId: 'key_a' }), tokens, requests, usd };
}

/** A key whose requests carry about 1,000 tokens, give or take `spread` (as a log deviation). */
function keyOf(spread: number): SeriesState {
  return { ...newSeriesState(0, 0), tokensPerRequest: 1000, perRequestSpread: spread };
}

describe('cost per token and request size', () => {
  it('starts from the first hour with usage, then follows about a day of hours', () => {
    const state = newSeriesState(0, 0);
    learnUnitRates(state, hour(100_000, 100, 0.5));
    expect(state.tokensPerRequest).toBe(1000);
    expect(state.usdPerToken).toBeCloseTo(5e-6);
    learnUnitRates(state, hour(200_000, 100, 0.5));
    expect(state.tokensPerRequest).toBeCloseTo(1050);
    expect(state.usdPerToken).toBeCloseTo(5e-6 + 0.05 * (2.5e-6 - 5e-6));
  });

  it('lets one wild hour widen the spread of request sizes by at most 2.5 spreads', () => {
    const state = keyOf(0.1);
    learnUnitRates(state, hour(100 * 100_000, 100));
    expect(state.perRequestSpread).toBeCloseTo(0.1 + 0.05 * (0.25 - 0.1));
  });

  it('keeps the request size when an hour has tokens but no requests reported', () => {
    const state = keyOf(0.1);
    learnUnitRates(state, hour(50_000, 0));
    expect(state.tokensPerRequest).toBe(1000);
    expect(state.perRequestSpread).toBe(0.1);
  });
});

describe('prompt bloat', () => {
  it('is four times the usual request size on a steady key', () => {
    expect(requestsBloated(keyOf(0.05), hour(50 * 4100, 50), cfg)).toBe(true);
    expect(requestsBloated(keyOf(0.05), hour(50 * 3900, 50), cfg)).toBe(false);
  });

  it("is judged against the key's own spread of request sizes", () => {
    // sensitivity 6 x 1.25 x 0.3 = 2.25: past e^2.25, about 9.5 times.
    expect(requestsBloated(keyOf(0.3), hour(50 * 5000, 50), cfg)).toBe(false);
    expect(requestsBloated(keyOf(0.3), hour(50 * 10_000, 50), cfg)).toBe(true);
  });

  it('needs enough requests to say so: a few large prompts are no bloat', () => {
    expect(fewRequests(hour(9 * 10_000, 9))).toBe(true);
    expect(requestsBloated(keyOf(0.05), hour(9 * 10_000, 9), cfg)).toBe(false);
    expect(requestsBloated(keyOf(0.05), hour(10 * 10_000, 10), cfg)).toBe(true);
  });

  it('needs a known request size', () => {
    expect(requestsBloated(newSeriesState(0, 0), hour(50 * 10_000, 50), cfg)).toBe(false);
  });
});
