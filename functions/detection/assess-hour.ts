// Judges one hour of a series against its baseline: how far off it is, whether it is material, and
// whether it opens an incident or keeps one going.
//
// An hour opens an incident when it is material (excess tokens and USD), is no recurrence (the same hour
// yesterday or last week was as high: nightly and weekly jobs) nor a job running late (see late-job.ts),
// and one of these holds:
// - one hour alone: far above its seasonal baseline by every relative measure configured (robust
//   distance, ratio, the single-hour ratio), made by more than a few requests (a few large prompts are
//   no loop: a runaway loop or a leaked key makes many calls), and past the series' recent bursts by a
//   margin (see burst-peak.ts) or, costing a high severity's worth over normal, minRatio past its busiest
//   hour;
// - a level shift: it and the hour before both above half the thresholds and together at minRatio times
//   their usual level (half-way in an hour the key is rarely used), this one 0.7 of the way to the
//   distance (or the third hour of a run whose first hour was a quarter of the way), keeping at least
//   half the tokens of the one before (steps hold and ramps rise, where a burst falls away), the two
//   hours' mean past the burst peak over sqrt(2);
// - prompt bloat: tokens per request several times the usual (judged against the key's own spread of
//   request sizes), at minRatio, without the distance, the single-hour ratio or the burst peak;
// - a long run: elevated ten hours in a row, whatever the burst peak (a leak under the key's past peak
//   pages before the night is out);
// - volume: the last half day together minRatio past anything the key has done in half a day, most of
//   its hours above their baseline (see window-volume.ts). Alone of the rules, it needs no recurrence
//   test: the key's days and weeks before are its bar.
// The first two must also stand above the usual level of the hours beside it, so summer time or a job an
// hour late pages no one (unless one hour alone costs a critical severity's worth over normal and is
// minRatio past the key's busiest hour: no hour beside it ever did that). A key with only a few hours of
// use has no level yet (after a week, its busiest hour stands for one: last week's, or an ordinary hour of
// the weeks before, see token-peak.ts), and an hour the key is rarely used in is judged against that peak
// too: minRatio times it is far enough, and one hour alone must top it (minRatio times it on a key that
// works in bursts). The baseline is the level when used, scaled down a little in rarely used hours (see
// baseline.ts), so a sparse key's usual burst is no spike but a day key running through the night is.
// On a key that works in bursts (idle in most hours, as CI runs, batch jobs and a team's sessions are, or
// busy with a trickle between bursts of ten times it), one hour alone must also top the key's busiest
// hour by half again, and a level shift's two hours its busiest two hours in a row of the last week and
// twice its busiest ordinary hour of the last two months, unless the hour costs a high severity's worth
// over normal: a burst no bigger than the key's biggest is how such a key works, and a week of bursts
// tops the week before's by a little every other week.
import type { DetectionConfig } from '../config/config-schema.ts';
import { type Expectation, expectation, LOG_OFFSET, SPARSE_USE } from './baseline.ts';
import { BURST_MARGIN } from './burst-peak.ts';
import { SEVERITY_FLOORS_USD } from './incident.ts';
import { isLateJob } from './late-job.ts';
import { isRecurrence } from './recurrence.ts';
import type { SeriesHourMetrics } from './series-metrics.ts';
import { recentPeak, ringElevated, ringElevatedRun, ringTokens } from './series-ring.ts';
import { RING_HOURS, type SeriesState } from './series-state.ts';
import { distance, partWayToMinRatio } from './thresholds.ts';
import { busiestHour } from './token-peak.ts';
import { fewRequests, requestsBloated } from './unit-rates.ts';
import { pastWindowVolume, usualVolume } from './window-volume.ts';

/** Cost per token drifts with the model mix: USD gets this much more spread than tokens. */
const PRICE_MIX_SPREAD = 0.2;
/** Silent this long, a key is dormant: waking up with material usage is a spike. */
export const DORMANT_HOURS = 14 * 24;
/** Hours of use a key needs before relative alerts: fewer say little about its level. */
export const MIN_USED_HOURS = 8;
/** An opening hour must be this share of the way to the relative thresholds above the hours beside it. */
const NEIGHBOUR_SHARE = 0.5;
/** A level shift's second hour keeps at least this share of the first hour's tokens. */
const SHIFT_HOLD_SHARE = 0.5;
/**
 * A level shift's second hour must be this share of the sensitivity's distance above its baseline, where
 * an incident going on needs half: two hours half-way off are a swinging key's busy afternoon. The third
 * hour of a run needs only half.
 */
const SHIFT_DISTANCE_SHARE = 0.7;
/**
 * A run's first hour, before the two elevated ones that make it three, need only be this share of the way
 * to the distance (and half-way to minRatio): a step's first hour falls just short of elevated in an hour
 * whose band is wide, and is learned, so its second hour no longer stands far above the hour before.
 */
const RUN_START_DISTANCE_SHARE = 0.25;
/**
 * Elevated this many hours in a row, a run opens whatever the series' bursts: a leak under a key's past
 * peak must not run all night unpaged (and pass for a recurrence, and be learned, the next day).
 */
const LONG_RUN_HOURS = 10;
/** A key used in fewer than this share of its hours overall works in bursts. */
const BURSTY_KEY_USE = 0.6;
/**
 * A key whose bursts (outside incidents) have reached ten times its baseline works in bursts too, however
 * often it is used: a CI key's trickle between runs is its baseline, and every run is far above it.
 */
const BURSTY_PEAK_LOG_RATIO = Math.log(10);
/**
 * One hour alone on a bursty key must top its busiest hour (see token-peak.ts) by this factor; a level
 * shift's two hours need only top its busiest two of the last week, as two such hours in a row are rarer.
 */
const PAST_ROUTINE_BURST_RATIO = 1.5;
/** An hour this much over normal in USD (a high severity) is judged as on any key, bursts or not. */
const BURST_WAIVER_USD = SEVERITY_FLOORS_USD[2] ?? 25;
/** A critical severity's worth over normal in USD. */
const CRITICAL_USD = SEVERITY_FLOORS_USD[3] ?? 100;

export interface Assessment {
  expected: Expectation;
  usdExpected: number;
  excessTokens: number;
  excessUsd: number;
  /** Opens an incident by one of the rules in the header, and is no recurrence nor a late job. */
  opening: boolean;
  /** Opened by the volume rule alone: the incident began with the half day it looked at. */
  byVolume: boolean;
  /** Above half the thresholds. */
  elevated: boolean;
  /** An open incident goes on: elevated, or minRatio above the key's usual volume and half material. */
  goingOn: boolean;
  /** ln(observed / expected), with the log offset: what the burst peak tracks. */
  logRatio: number;
}

export function assess(
  state: SeriesState,
  m: SeriesHourMetrics,
  hour: number,
  cfg: DetectionConfig,
): Assessment {
  const dormant = hour - state.lastSeenHour > DORMANT_HOURS;
  // A key silent for weeks is expected to stay silent: any material use is news.
  const expectedAt = (h: number): Expectation =>
    dormant ? { ...expectation(state, h), tokens: 0 } : expectation(state, h);
  const expected = expectedAt(hour);
  const x = m.tokens;
  const usdRate = state.usdPerToken > 0 ? state.usdPerToken : x > 0 ? m.usd / x : 0;
  // The same measures on estimated USD catch a leak on a pricier model, with tokens past minRatio too: at
  // about its usual tokens, a key's cost per token is its model mix varying from hour to hour.
  const measure = (e: Expectation) => {
    const ratio = (x + LOG_OFFSET) / (e.tokens + LOG_OFFSET);
    const usdExpected = e.tokens * usdRate;
    const usdOffset = LOG_OFFSET * usdRate;
    const usdRatio = usdOffset > 0 ? (m.usd + usdOffset) / (usdExpected + usdOffset) : ratio;
    const relative = (k: number) =>
      (distance(ratio, e.sigma) >= cfg.sensitivity * k && ratio >= partWayToMinRatio(cfg, k)) ||
      (distance(usdRatio, e.sigma + PRICE_MIX_SPREAD) >= cfg.sensitivity * k &&
        usdRatio >= partWayToMinRatio(cfg, k) &&
        ratio >= cfg.minRatio);
    return { ratio, usdExpected, usdRatio, relative };
  };
  const { ratio, usdExpected, usdRatio, relative } = measure(expected);
  const excessTokens = x - expected.tokens;
  const excessUsd = m.usd - usdExpected;
  // Summer time moves a working day by an hour twice a year, and jobs run an hour late: an opening hour
  // must also be well above the usual level of the hours beside it (half-way to every relative
  // threshold), so a day that starts or ends an hour off is no spike. A flat key's neighbours are its
  // own level, and change nothing.
  const besideUsual = (k: number) =>
    measure(expectedAt(hour - 1)).relative(k * NEIGHBOUR_SHARE) &&
    measure(expectedAt(hour + 1)).relative(k * NEIGHBOUR_SHARE);
  // Left at 0, minExcessUsd leaves materiality to tokens alone: a step onto a cheaper model may cost less
  // than the key's usual hour, and is news all the same.
  const material = (k: number) =>
    (cfg.minExcessUsd <= 0 || excessUsd >= cfg.minExcessUsd * k) &&
    (excessTokens >= cfg.minExcessTokens * k || (usdRatio >= cfg.minRatio && x >= cfg.minExcessTokens * k));
  // Evidence: a key with only a few hours of use has no level to be far from yet (its first material
  // hours are the new_key rule's) unless a week or more has shown how little it is used: then its busiest
  // hour is its level. An hour the key is rarely used in (a sparse key, a day key's night) is judged
  // against that peak too, so bursts, once seen, are not news each time they come back: minRatio times
  // it on a key that works in bursts, past it at all on any other (a day key's night busier than its
  // busiest day hour); and once the key has a week of history, an hour minRatio past its peak is far
  // enough off whatever the spread of its used hours (a key used now and then, running all night at three
  // times its busiest hour).
  const weekSeen = hour - state.firstHour >= RING_HOURS;
  let passedPeak: boolean | undefined;
  // A dormant key's busy hours before its silence are no reason to let its waking up pass.
  const busiest = () => (dormant ? 0 : busiestHour(state, hour));
  const pastPeak = () => (passedPeak ??= x >= cfg.minRatio * busiest());
  // After a week, minRatio times the key's busiest hour is past anything the key has done, in tokens.
  const pastAll = () => weekSeen && pastPeak();
  const young = state.usedHours < MIN_USED_HOURS && !pastAll();
  const rareHour = expected.use < SPARSE_USE;
  const bursty = state.globalUse < BURSTY_KEY_USE || state.burstPeak >= BURSTY_PEAK_LOG_RATIO;
  const overPeak = () => !rareHour || (bursty ? pastPeak() : x >= busiest());
  const far = () => relative(1) || (rareHour && pastAll());
  const logRatio = Math.log(ratio);
  // Calibrated to the series: past its own recent bursts (not in incidents) by a margin, as ratios to its
  // baseline; or, costing a high severity's worth over normal, past anything the key has done (a sparse
  // key's bursts, each against the small baseline of an hour it seldom uses, may run to many times it).
  const pastBursts = () =>
    Math.max(logRatio, Math.log(usdRatio)) >= BURST_MARGIN * state.burstPeak ||
    (excessUsd >= BURST_WAIVER_USD && pastAll());
  // One hour alone must be a clear jump (loops run at 5x and more) made by many calls; a gentler rise, or
  // a few large prompts, pages once a second hour confirms it, as a level shift, so the odd busy hour of a
  // smooth key, or of a small key making a handful of calls, is no page.
  const alone = Math.max(ratio, usdRatio) >= cfg.singleHourRatio && !fewRequests(m);
  // Critical in cost and minRatio past anything the key has done, an hour is no working day or job an
  // hour off, whatever the hours beside it usually do.
  const criticalPastAll = () => excessUsd >= CRITICAL_USD && pastAll();
  // Cheapest first: an empty or ordinary hour (most gap-filled hours of a sparse key) never reads the peak.
  const unusual =
    alone && !young && pastBursts() && far() && overPeak() && (criticalPastAll() || besideUsual(1));
  const elevated = relative(0.5) && material(0.5);
  // A level shift: elevated this hour and the hour before it, so a step or a ramp too gentle for one
  // hour's test opens in its second hour, before it can be learned as normal. The two hours' mean must top
  // the series' bursts over sqrt(2). A step holds and a ramp rises, where a run falling to under half in its
  // second hour is a burst ending, judged by the one-hour test already. Together the two hours reach
  // minRatio times their usual level: two hours half-way up are a busy afternoon, though not a night on a
  // key used by day (whose baseline there is its day level scaled down). On a swinging key, the second
  // hour must stand further off than half the distance, or be the third hour of a run.
  const hourBefore = ringTokens(state, hour - 1);
  const sustained =
    elevated &&
    !young &&
    shiftBegan(state, hour) &&
    (logRatio + state.lastLogRatio) / 2 >= (BURST_MARGIN * state.burstPeak) / Math.SQRT2 &&
    x >= SHIFT_HOLD_SHARE * hourBefore &&
    (rareHour ||
      x + hourBefore + 2 * LOG_OFFSET >=
        cfg.minRatio * (expected.tokens + expectedAt(hour - 1).tokens + 2 * LOG_OFFSET)) &&
    (distance(ratio, expected.sigma) >= cfg.sensitivity * SHIFT_DISTANCE_SHARE ||
      ringElevated(state, hour - 2) ||
      startedShort(state, hour - 2, cfg)) &&
    besideUsual(0.5);
  // Prompt bloat: each request carries several times its usual tokens at about the usual request count,
  // a change in kind that total tokens show late on a noisy or sparse key.
  const bloated = !young && ratio >= cfg.minRatio && requestsBloated(state, m, cfg);
  const longRun =
    elevated && !young && ringElevatedRun(state, hour, LONG_RUN_HOURS - 1) === LONG_RUN_HOURS - 1;
  // A bursty key's burst no bigger than its busiest hours is routine (see the header). Two hours in a row
  // must top the busiest two of the last week and twice the key's busiest ordinary hour before (the
  // token peak's part of busiest()), so a quiet week does not make the next run of the usual size news.
  const busiestTwo = () => Math.max(recentPeak(state, hour, 2), dormant ? 0 : 2 * state.tokenPeak);
  const pastRoutineBursts = (tokens: number, routine: () => number) =>
    !bursty || !weekSeen || excessUsd >= BURST_WAIVER_USD || tokens >= routine();
  const opening =
    ((unusual && pastRoutineBursts(x, () => PAST_ROUTINE_BURST_RATIO * busiest())) ||
      (sustained && pastRoutineBursts(x + hourBefore, busiestTwo)) ||
      bloated ||
      longRun) &&
    material(1) &&
    !isRecurrence(state, hour, x, expected.tokens, cfg) &&
    !isLateJob(state, hour, x, excessTokens, expectedAt);
  // A noisy key's band widens over a leak's first hours; minRatio above its level, it is not back.
  const high = x + LOG_OFFSET >= cfg.minRatio * (usualVolume(expected) + LOG_OFFSET) && material(0.5);
  const byVolume =
    !opening &&
    ratio >= partWayToMinRatio(cfg, 0.5) &&
    material(1) &&
    pastWindowVolume(state, hour, x, expectedAt, cfg);
  return {
    expected,
    usdExpected,
    excessTokens,
    excessUsd,
    opening: opening || byVolume,
    byVolume,
    elevated,
    goingOn: elevated || high,
    logRatio,
  };
}

/**
 * An hour of the last week short of elevated that may begin a run all the same: half-way to minRatio and
 * a quarter of the distance above its baseline (see RUN_START_DISTANCE_SHARE).
 */
export function startedShort(state: SeriesState, hour: number, cfg: DetectionConfig): boolean {
  if (hour < state.firstHour) return false;
  const usual = expectation(state, hour);
  const ratio = (ringTokens(state, hour) + LOG_OFFSET) / (usual.tokens + LOG_OFFSET);
  return (
    ratio >= partWayToMinRatio(cfg, 0.5) &&
    distance(ratio, usual.sigma) >= cfg.sensitivity * RUN_START_DISTANCE_SHARE
  );
}

/** The hour before was elevated, and not as a recurring job's hour (its log ratio was kept at most 0). */
function shiftBegan(state: SeriesState, hour: number): boolean {
  const then = hour - 1;
  return then === state.lastHour && ringElevated(state, then) && state.lastLogRatio > 0;
}
