// The seasonal baseline of one series. Two parts, as sparse keys need:
// - how likely the hour is to be used at all (share of hours with usage, per slot and overall);
// - the level when used, in log space, ln(tokens + LOG_OFFSET), where multiplicative noise becomes
//   additive: an exponentially weighted mean and mean absolute residual.
// Slots are hour of day (UTC) x weekday/weekend. Level updates are clipped, so one wild hour moves
// the baseline a little, never to the wild value; empty hours only lower the chance of use, so gaps in
// a busy key do not drag its level down.
import { MAX_SLOT_COUNT, type SeriesState, SLOT_COUNT } from './series-state.ts';

/** Tokens added before the logarithm: keeps empty hours finite and damps noise in the smallest keys. */
export const LOG_OFFSET = 1000;
export const toLog = (tokens: number): number => Math.log(Math.max(0, tokens) + LOG_OFFSET);
export const fromLog = (v: number): number => Math.max(0, Math.exp(v) - LOG_OFFSET);

/** Mean absolute residual to standard deviation, for roughly normal residuals. */
const SPREAD_TO_SIGMA = 1.25;
/** No series is trusted to be smoother than +-5% an hour. */
const SIGMA_FLOOR = 0.05;
/** Observations of the global spread a slot's own spread is worth next to its own (shrinkage). */
const SPREAD_PRIOR_WEIGHT = 3;
/**
 * Hours of the overall share of use a slot's own share is worth next to its own: about a week of a
 * weekday slot, so a few quiet days do not make an hour look rarely used.
 */
const USE_PRIOR_WEIGHT = 6;
/**
 * In an hour the key is rarely used, expected tokens are the level when used scaled by the square root
 * of the hour's relative chance of use, down to this share: a leaked key or a loop running through the
 * night of a key used by day stands out sooner, while a sparse key used at random hours keeps its level.
 */
const RARE_HOUR_FLOOR = 0.3;
/** Slowest learning rates: weekday slots see 5 hours a week, weekend slots 2. */
const MIN_RATE_WEEKDAY = 0.2;
const MIN_RATE_WEEKEND = 0.3;
const GLOBAL_MIN_RATE = 0.02;
/** The recent spread follows the last few hours. */
const RECENT_RATE = 0.2;
/**
 * Two hours in a row at this many times their baseline or more are a run (a ramp, a step, a loop not yet
 * paged), not the key's hour-to-hour swing: they leave the recent spread alone. Otherwise a ramp that
 * climbs a little each hour widens the band by 30% an hour, faster than it climbs, and is never paged.
 */
export const RUN_RATIO = 3;
/** The overall share of use remembers about two weeks. */
const GLOBAL_USE_MIN_RATE = 1 / 336;
/** The prior spread of a key with little usage seen (a factor of e either way), worth this many hours. */
const UNSURE_SPREAD = 1;
const UNSURE_PRIOR_HOURS = 5;
/** Clipped learning moves a level by at most this many sigmas of residual. */
const CLIP_SIGMAS = 2;
/** A residual moves a spread as if it were at most this many spreads. */
const HUBER_SPREADS = 2.5;

/** An hour of the day used in fewer than this share of days is rarely used (a sparse key, a day key's night). */
export const SPARSE_USE = 0.5;

export interface Expectation {
  /** Level when used (log space) and its scale. */
  mean: number;
  sigma: number;
  /** The hour's chance of use: its slot's share of hours with usage, leaning on the series' overall share. */
  use: number;
  /** Expected tokens: the typical level when used, scaled down in hours the key is rarely used (RARE_HOUR_FLOOR). */
  tokens: number;
}

/** Saturday or Sunday in a time zone `shift` hours ahead of UTC. 1970-01-01 (hour 0) was a Thursday. */
export function isWeekend(hour: number, shift: number): boolean {
  const day = Math.floor((hour + shift) / 24);
  const weekday = (((day + 4) % 7) + 7) % 7;
  return weekday === 0 || weekday === 6;
}

/** The slot of an hour: its hour of day (UTC), on a weekday or on the series' weekend (see weekend-shift.ts). */
export function slotOf(state: Pick<SeriesState, 'weekendShift'>, hour: number): number {
  return (((hour % 24) + 24) % 24) + (isWeekend(hour, state.weekendShift) ? 24 : 0);
}

export const otherDayTypeSlot = (slot: number): number => (slot + 24) % SLOT_COUNT;

export function expectation(state: SeriesState, hour: number): Expectation {
  const s = slotOf(state, hour);
  const a = otherDayTypeSlot(s);
  const n = state.slotCount[s] ?? 0;
  const na = state.slotCount[a] ?? 0;
  const priorMean = na > 0 ? (state.slotMean[a] ?? state.globalMean) : state.globalMean;
  // A slot used once or never leans on the same hour of the other day type, else on the global level.
  const w = Math.min(1, n / 2);
  const mean = w * (state.slotMean[s] ?? 0) + (1 - w) * priorMean;
  const own = state.slotSpread[s] ?? 0;
  const g = state.globalSpread;
  const spread = Math.max(
    state.recentSpread,
    Math.sqrt((n * own * own + SPREAD_PRIOR_WEIGHT * g * g) / (n + SPREAD_PRIOR_WEIGHT)),
  );
  // Until a key has been used for a while its level is a guess: lean on a wide prior spread.
  const used = state.usedHours;
  const confident = (used * spread + UNSURE_PRIOR_HOURS * UNSURE_SPREAD) / (used + UNSURE_PRIOR_HOURS);
  const sigma = Math.max(SIGMA_FLOOR, SPREAD_TO_SIGMA * confident);
  const seen = state.slotSeen[s] ?? 0;
  const use =
    (seen * (state.slotUse[s] ?? 0) + USE_PRIOR_WEIGHT * state.globalUse) / (seen + USE_PRIOR_WEIGHT);
  const useShare = state.globalUse > 0 ? Math.min(1, use / state.globalUse) : 1;
  const tokens = fromLog(mean) * Math.max(RARE_HOUR_FLOOR, Math.sqrt(useShare));
  return { mean, sigma, use, tokens };
}

export type LearnMode = 'clipped' | 'free';

/**
 * Folds one hour into the baseline. `clipped` for ordinary hours; `free` to accept a new level. `inRun`:
 * the hour and the one before are at RUN_RATIO or more, and leave the recent spread alone.
 */
export function learn(
  state: SeriesState,
  hour: number,
  tokens: number,
  mode: LearnMode,
  inRun = false,
): void {
  const used = tokens > 0 ? 1 : 0;
  const hoursSeen = state.lastHour - state.firstHour + 1;
  state.globalUse += Math.max(1 / (hoursSeen + 1), GLOBAL_USE_MIN_RATE) * (used - state.globalUse);
  const change = learnSlot(state, hour, tokens, mode);
  if (!change) return;
  const { logValue, limit, clipTo } = change;
  const globalRate = Math.max(1 / (hoursSeen + 1), GLOBAL_MIN_RATE);
  const globalStep = logValue - state.globalMean;
  state.globalMean += globalRate * Math.max(-limit, Math.min(limit, globalStep));
  state.globalSpread += globalRate * (clipTo(state.globalSpread) - state.globalSpread);
  if (inRun) return;
  state.recentSpread +=
    Math.max(1 / (hoursSeen + 1), RECENT_RATE) * (clipTo(state.recentSpread) - state.recentSpread);
}

interface SlotChange {
  logValue: number;
  /** The largest step a level may take. */
  limit: number;
  /** The residual as a spread may learn it. */
  clipTo: (spread: number) => number;
}

/** Folds one hour into its slot alone (chance of use, level and spread); undefined for an empty hour. */
export function learnSlot(
  state: SeriesState,
  hour: number,
  tokens: number,
  mode: LearnMode,
): SlotChange | undefined {
  const s = slotOf(state, hour);
  const seen = state.slotSeen[s] ?? 0;
  const useRate = Math.max(1 / (seen + 1), s >= 24 ? MIN_RATE_WEEKEND : MIN_RATE_WEEKDAY);
  state.slotUse[s] = (state.slotUse[s] ?? 0) + useRate * ((tokens > 0 ? 1 : 0) - (state.slotUse[s] ?? 0));
  state.slotSeen[s] = Math.min(MAX_SLOT_COUNT, seen + 1);
  if (tokens <= 0) return undefined;

  const logValue = toLog(tokens);
  const exp = expectation(state, hour);
  const n = state.slotCount[s] ?? 0;
  const residual = logValue - exp.mean;
  const limit = mode === 'free' ? Number.POSITIVE_INFINITY : CLIP_SIGMAS * exp.sigma;
  const step = Math.max(-limit, Math.min(limit, residual));
  // Huber-style scale updates: a residual counts for at most HUBER_SPREADS times the current spread,
  // so a holiday or an outage widens the band a little, not for weeks.
  const abs = Math.abs(residual);
  const clipTo = (spread: number) => Math.min(abs, HUBER_SPREADS * Math.max(spread, SIGMA_FLOOR));
  if (n === 0) {
    // A slot's first use is all it knows of its hour; the spread starts from the global one.
    state.slotMean[s] = logValue;
    state.slotSpread[s] = state.globalSpread;
  } else {
    const rate = Math.max(1 / (n + 1), s >= 24 ? MIN_RATE_WEEKEND : MIN_RATE_WEEKDAY);
    state.slotMean[s] = (state.slotMean[s] ?? 0) + rate * step;
    const own = state.slotSpread[s] ?? 0;
    state.slotSpread[s] = own + rate * (clipTo(own) - own);
  }
  state.slotCount[s] = Math.min(MAX_SLOT_COUNT, n + 1);
  return { logValue, limit, clipTo };
}
