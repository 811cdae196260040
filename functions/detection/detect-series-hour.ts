// The pure detector: one series, one hour, its state before and after. No I/O, so it is tested alone.
//
// An hour opens an incident when it is far above its seasonal baseline by every measure configured
// (robust distance, ratio, the single-hour ratio, excess tokens, excess USD) and is not a recurrence
// (the same hour yesterday or last week was as high: nightly and weekly jobs), or when it and the
// hour before are both above half the thresholds (a level shift: steps and ramps). Either must also
// stand above the usual level of the hours beside it, so summer time or a job an hour late pages no
// one. Both are calibrated to the series itself: an hour must also top the series' recent bursts (a
// decaying maximum of ln(observed / expected) over hours outside incidents) by a margin, and a level
// shift's two-hour mean that peak over sqrt(2), so a key that bursts 5x a few times a week without
// anyone calling it an incident pages only well past that, while a smooth key keeps its full
// sensitivity. The peak remembers about a month (half-life four weeks); a burst seen before its
// hour's daily pattern is known, or of ten times or more, counts a day later, unless that hour came
// back as high (a daily job summer time moved), and one at the edge of the weekend counts only above
// the other side's level too (summer time moves it). One hour of fewer than FEW_REQUESTS calls opens
// nothing alone: a few large prompts make it, where a runaway loop or a leaked key makes many calls.
// Prompt bloat (tokens per request several times the usual, judged against the key's own spread of
// request sizes) opens at minRatio, without the distance, the single-hour ratio or the burst peak. A
// one-hour burst the series comes back from is learned late, as normal behaviour; a step or a ramp,
// still elevated, never is. A key with only a few hours of use has no level yet (after a week, its
// last week's peak stands for one), and an hour the key is rarely used in is judged against that peak
// too: minRatio times it is far enough. The baseline is the level when used, scaled down a little in
// rarely used hours (see baseline.ts), so a sparse key's usual burst is no spike but a day key
// running through the night is. While an incident is open the baseline does not learn (for up to two
// days; a longer one is accepted as the new level), and it resolves once the series has been back
// within its baseline for `recoveryHours` hours in a row. A short incident that stayed cheap (under $5 of
// excess) then counts among the series' bursts, so a key whose routine runs page once does not page for
// each of them; a costly one never does.
import type { DetectionConfig } from '../config/config-schema.ts';
import type { Alert, AlertType } from '../core/alert.ts';
import { HOUR_SECONDS } from '../core/usage.ts';
import { type Expectation, expectation, LOG_OFFSET, learn, slotOf, toLog } from './baseline.ts';
import { type AlertFigures, makeAlert, SEVERITY_FLOORS_USD, severityAt, severityIndex } from './incident.ts';
import { emptyMetrics, type SeriesHourMetrics } from './series-metrics.ts';
import {
  cloneSeriesState,
  type IncidentState,
  newSeriesState,
  RING_HOURS,
  type SeriesState,
} from './series-state.ts';
import { dequantizeTokens, quantizeTokens } from './series-state-codec.ts';
import { settleWeekend } from './weekend-shift.ts';

export interface NotificationSettings {
  recoveryNotices: boolean;
  repeatEveryHours: number;
}

export interface DetectSeriesHourInput {
  state: SeriesState | undefined;
  /** This hour's figures; zeros when the series had no usage. */
  metrics: SeriesHourMetrics;
  /** Unix seconds, aligned to the hour. */
  hourStart: number;
  settings: DetectionConfig;
  notifications: NotificationSettings;
  /** Backfill before alerts start: learn, open nothing, alert nothing. */
  priming?: boolean;
}

export interface DetectSeriesHourResult {
  /** undefined: a series never seen, with no usage now, has no state. */
  state: SeriesState | undefined;
  alerts: Alert[];
  /** false: the hour was at or before the last one applied (a replay), nothing changed. */
  applied: boolean;
}

/** Past this, an open incident is the new normal and the baseline learns from it again. */
export const MAX_FROZEN_HOURS = 48;
/** Gaps longer than this are filled with only their last hours (a longer silence teaches no more). */
const MAX_GAP_FILL_HOURS = 24 * 21;
/** Cost per token drifts with the model mix: USD gets this much more spread than tokens. */
const PRICE_MIX_SPREAD = 0.2;
/** Sparkline length. */
const RECENT_HOURS = 48;
/** A recurrence: the same hour yesterday or last week had at least this share of this hour's tokens. */
const RECURRENCE_SHARE = 0.5;
/**
 * ... and itself that share of the way to minRatio above today's baseline, if it was not elevated when
 * seen: a weekly job a little bigger than last week is no incident because last week's run was judged
 * just under the bar.
 */
const RECURRENCE_FLOOR_SHARE = 0.5;
/** Silent this long, a key is dormant: waking up with material usage is a spike. */
export const DORMANT_HOURS = 14 * 24;
/** Hours of use a key needs before relative alerts: fewer say little about its level. */
export const MIN_USED_HOURS = 8;
/** A key is new for its first hours of use: one that starts small and grows is judged by its baseline. */
export const NEW_KEY_USED_HOURS = 3;
/** An hour of the day used in fewer than this share of days is rarely used (a sparse key, a day key's night). */
const SPARSE_USE = 0.5;
/** An opening hour's log ratio must exceed the series' recent burst peak by this factor. */
export const BURST_MARGIN = 1.1;
/**
 * The burst peak halves in four weeks: what the series has done in the last month or two, not only last
 * week, so a key that bursts every week or two does not page again each time a quiet week has passed.
 */
const BURST_HALF_LIFE_HOURS = 4 * 168;
const BURST_DECAY = 2 ** (-1 / BURST_HALF_LIFE_HOURS);
/**
 * A burst in a slot with fewer hours of use than this is held back a day: before a key's daily pattern
 * is known (its first days), its daily batch looks like a burst and would raise the bar for weeks.
 */
export const BURST_SLOT_MIN_HOURS = 2;
/**
 * A burst this large (as ln(observed / expected)) would lift the bar past most loops for a month: it is
 * held back a day too, and dropped if the same hour comes back as high (a daily job that summer time
 * moved by an hour, or a new one), so one shifted job does not blind a key to its next incident.
 */
const BURST_HOLD_LOG_RATIO = Math.log(10);
/** A routine burst: an incident of at most this many elevated hours ... */
const ROUTINE_BURST_HOURS = 6;
/** ... whose excess cost stayed under the medium severity's floor ($5). */
const ROUTINE_BURST_MAX_USD = SEVERITY_FLOORS_USD[1] ?? 5;
/** An opening hour must be this share of the way to the relative thresholds above the hours beside it. */
const NEIGHBOUR_SHARE = 0.5;
/** Tokens per request learn this fast (about a day of hours), and so does their spread. */
const PER_REQUEST_RATE = 0.05;
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
 * ... and at least `sensitivity` of its usual deviations (as sigmas) away, with tokens past minRatio (not
 * only half-way: a nightly job's larger requests look the same on a night it runs twice as long).
 */
const PER_REQUEST_SPREAD_TO_SIGMA = 1.25;

export function detectSeriesHour(input: DetectSeriesHourInput): DetectSeriesHourResult {
  const hour = input.hourStart / HOUR_SECONDS;
  const alerts: Alert[] = [];
  let state = input.state;
  if (state && hour <= state.lastHour) return { state, alerts, applied: false };
  if (!state) {
    if (input.metrics.tokens <= 0) return { state: undefined, alerts, applied: false };
    state = newSeriesState(hour, toLog(input.metrics.tokens));
  } else {
    state = cloneSeriesState(state);
    const zeros = emptyMetrics(input.metrics);
    let from = state.lastHour + 1;
    if (hour - from > MAX_GAP_FILL_HOURS) {
      from = hour - MAX_GAP_FILL_HOURS;
      state.lastHour = from - 1;
    }
    for (let h = from; h < hour; h++) step(state, zeros, h, input, alerts);
  }
  step(state, input.metrics, hour, input, alerts);
  return { state, alerts, applied: true };
}

interface Assessment {
  expected: Expectation;
  usdExpected: number;
  excessTokens: number;
  excessUsd: number;
  /** Far off the baseline by the relative measures (distance and ratio), however small in absolute terms. */
  unusual: boolean;
  /** Crosses every opening threshold and is no recurrence. */
  opening: boolean;
  /** Above half the thresholds: an open incident is still going on. */
  elevated: boolean;
  /** ln(observed / expected), with the log offset: what the burst peak tracks. */
  logRatio: number;
}

function step(
  state: SeriesState,
  m: SeriesHourMetrics,
  hour: number,
  input: DetectSeriesHourInput,
  alerts: Alert[],
): void {
  const cfg = input.settings;
  const priming = input.priming === true;
  const history = hour - state.firstHour;
  const warm = history >= cfg.warmupHours;
  const a = assess(state, m, hour, cfg);
  const drafts: Array<Omit<AlertFigures, 'recentTokens'>> = [];
  const base = {
    projectId: m.projectId,
    apiKeyId: m.apiKeyId,
    bucketStart: hour * HOUR_SECONDS,
    metric: 'tokens' as const,
    observed: m.tokens,
    expected: a.expected.tokens,
    usdObserved: m.usd,
    usdExpected: a.usdExpected,
    requestsObserved: m.requests,
    requestsExpected: state.tokensPerRequest > 0 ? a.expected.tokens / state.tokensPerRequest : 0,
    topModel: m.topModel,
  };
  const hourSeverity = severityIndex(a.excessUsd);

  // New keys: material usage in the first hours of use of a key never seen before (one that starts small
  // and grows is judged against its own level once it has one).
  if (!state.newKeyAlerted) {
    if (priming || warm || state.usedHours >= NEW_KEY_USED_HOURS) state.newKeyAlerted = true;
    else if (m.tokens >= cfg.newKeyMinTokens && m.usd >= cfg.minExcessUsd && !state.incident) {
      state.newKeyAlerted = true;
      drafts.push({
        ...base,
        type: 'new_key',
        incidentStart: hour * HOUR_SECONDS,
        expected: 0,
        usdExpected: 0,
        requestsExpected: 0,
        severity: severityAt(severityIndex(m.usd)),
        excessTokensTotal: m.tokens,
        excessUsdTotal: m.usd,
      });
    }
  }

  let inIncident = false;
  let frozen = false;
  const incident = state.incident;
  if (incident) {
    inIncident = true;
    frozen = hour - incident.startHour < MAX_FROZEN_HOURS;
    if (a.elevated) {
      incident.lastAbnormalHour = hour;
      incident.normalStreak = 0;
      incident.excessTokens += Math.max(0, a.excessTokens);
      incident.excessUsd += Math.max(0, a.excessUsd);
      const escalated = hourSeverity > incident.alertedSeverity;
      const repeat =
        input.notifications.repeatEveryHours > 0 &&
        hour - incident.lastAlertHour >= input.notifications.repeatEveryHours;
      if ((escalated || repeat) && !priming) {
        incident.lastAlertHour = hour;
        incident.alertedSeverity = Math.max(incident.alertedSeverity, hourSeverity);
        drafts.push(incidentDraft(base, 'reminder', incident, hourSeverity));
      }
    } else {
      incident.normalStreak += 1;
      if (incident.normalStreak >= cfg.recoveryHours) {
        state.incident = null;
        if (routineBurst(incident))
          state.burstPeak = Math.max(state.burstPeak, incidentPeak(state, incident));
        if (input.notifications.recoveryNotices && !priming) {
          drafts.push({
            ...incidentDraft(base, 'resolved', incident, incident.alertedSeverity),
            durationHours: incidentHours(incident),
          });
        }
      }
    }
  } else if (a.opening && warm && !priming) {
    const opened: IncidentState = {
      startHour: hour,
      lastAlertHour: hour,
      alertedSeverity: hourSeverity,
      lastAbnormalHour: hour,
      normalStreak: 0,
      excessTokens: Math.max(0, a.excessTokens),
      excessUsd: Math.max(0, a.excessUsd),
    };
    state.incident = opened;
    inIncident = true;
    frozen = true;
    drafts.push(incidentDraft(base, 'spike', opened, hourSeverity));
  }

  // Learning: an incident's hours and (once warm) anomalous hours teach nothing; everything else is
  // learned with clipping, so a wild hour during warm-up moves the baseline only a little.
  // Elevated hours (above half the thresholds) teach nothing once warm: the first hours of a ramp or a
  // step must not widen the band the next hours are judged by.
  const anomalous = a.elevated;
  const recurring = a.elevated && isRecurrence(state, hour, m.tokens, a.expected.tokens, cfg);
  if (inIncident && !frozen) learn(state, hour, m.tokens, 'free');
  else if (!inIncident && !(warm && a.elevated && !recurring)) learn(state, hour, m.tokens, 'clipped');
  // A one-hour burst the series came back from is part of its normal behaviour: learned late, so a
  // step or a ramp (still elevated next hour) never is.
  if (
    !inIncident &&
    !a.elevated &&
    warm &&
    hour - 1 === state.lastHour &&
    state.lastLogRatio > 0 &&
    state.ringAnomalous[(hour - 1) % RING_HOURS] === true
  )
    learn(state, hour - 1, dequantizeTokens(state.ring[(hour - 1) % RING_HOURS] ?? 0), 'clipped');
  if (m.tokens > 0 && !anomalous) {
    const usdRate = m.usd / m.tokens;
    const perRequest = m.requests > 0 ? m.tokens / m.requests : state.tokensPerRequest;
    state.usdPerToken =
      state.usdPerToken > 0 ? state.usdPerToken + 0.05 * (usdRate - state.usdPerToken) : usdRate;
    if (state.tokensPerRequest > 0 && m.requests > 0) {
      const deviation = Math.min(
        Math.abs(Math.log(perRequest / state.tokensPerRequest)),
        HUBER_PER_REQUEST * Math.max(state.perRequestSpread, MIN_PER_REQUEST_SPREAD),
      );
      state.perRequestSpread += PER_REQUEST_RATE * (deviation - state.perRequestSpread);
    }
    state.tokensPerRequest =
      state.tokensPerRequest > 0
        ? state.tokensPerRequest + PER_REQUEST_RATE * (perRequest - state.tokensPerRequest)
        : perRequest;
  }
  // The burst peak learns from hours outside incidents (a burst that did not open one, not an incident).
  state.burstPeak *= BURST_DECAY;
  settlePendingBurst(state, hour, m.tokens);
  // An elevated hour counts once the series is back (a burst); a step or a ramp stays elevated and
  // does not raise the bar its own next hours are judged by.
  if (!inIncident && !a.elevated && state.usedHours >= MIN_USED_HOURS && (priming || warm)) {
    if (m.tokens > 0 && !recurring) learnBurst(state, hour, a.logRatio, 0);
    if (hour - 1 === state.lastHour) learnBurst(state, hour - 1, state.lastLogRatio * BURST_DECAY, 1);
  }
  // A recurring job's hour is no burst: it neither raises the bar nor counts as a shift's first hour.
  state.lastLogRatio = recurring ? Math.min(0, a.logRatio) : a.logRatio;
  const slot = hour % RING_HOURS;
  state.ring[slot] = quantizeTokens(m.tokens);
  state.ringAnomalous[slot] = anomalous;
  state.lastHour = hour;
  if (m.tokens > 0) state.lastSeenHour = hour;
  if (!state.weekendSettled && hour - state.firstHour + 1 >= RING_HOURS) settleWeekend(state, hour);

  if (drafts.length) {
    const recentTokens = recentFromRing(state, hour);
    for (const d of drafts) alerts.push(makeAlert({ ...d, recentTokens }));
  }
}

function incidentDraft(
  base: Omit<
    AlertFigures,
    'type' | 'incidentStart' | 'severity' | 'excessTokensTotal' | 'excessUsdTotal' | 'recentTokens'
  >,
  type: AlertType,
  incident: IncidentState,
  severity: number,
): Omit<AlertFigures, 'recentTokens'> {
  return {
    ...base,
    type,
    incidentStart: incident.startHour * HOUR_SECONDS,
    severity: severityAt(severity),
    excessTokensTotal: incident.excessTokens,
    excessUsdTotal: incident.excessUsd,
  };
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
  const material = (k: number) =>
    excessUsd >= cfg.minExcessUsd * k &&
    (excessTokens >= cfg.minExcessTokens * k || (usdRatio >= cfg.minRatio && x >= cfg.minExcessTokens * k));
  // Evidence: a key with only a few hours of use has no level to be far from yet (its first material
  // hours are the new_key rule's) unless a week or more has shown how little it is used: then its last
  // week's peak is its level. An hour the key is rarely used in (a sparse key, a day key's night) is
  // judged against that peak too, so bursts, once seen, are not news each time they come back; and once
  // the key has a week of history, an hour that far past its peak is far enough off whatever the spread
  // of its used hours (a key used now and then, running all night at three times its busiest hour).
  const weekSeen = hour - state.firstHour >= RING_HOURS;
  let passedPeak: boolean | undefined;
  const pastPeak = () => (passedPeak ??= x >= cfg.minRatio * recentPeak(state, hour));
  const young = state.usedHours < MIN_USED_HOURS && !(weekSeen && pastPeak());
  const rareHour = expected.use < SPARSE_USE;
  const overPeak = () => !rareHour || pastPeak();
  const far = () => relative(1) || (rareHour && weekSeen && pastPeak());
  const logRatio = Math.log(ratio);
  // Calibrated to the series: past its own recent bursts (not in incidents) by a margin.
  const pastBursts = Math.max(logRatio, Math.log(usdRatio)) >= BURST_MARGIN * state.burstPeak;
  // One hour alone must be a clear jump (loops run at 5x and more) made by many calls; a gentler rise, or
  // a few large prompts, pages once a second hour confirms it, as a level shift, so the odd busy hour of a
  // smooth key, or of a small key making a handful of calls, is no page.
  const fewRequests = m.requests > 0 && m.requests < FEW_REQUESTS;
  const alone = Math.max(ratio, usdRatio) >= cfg.singleHourRatio && !fewRequests;
  // Cheapest first: an empty or ordinary hour (most gap-filled hours of a sparse key) never reads the peak.
  const unusual = alone && !young && pastBursts && far() && overPeak() && besideUsual(1);
  const elevated = relative(0.5) && material(0.5);
  // A level shift: elevated this hour and the hour before it, so a step or a ramp too gentle for one
  // hour's test opens in its second hour, before it can be learned as normal.
  const shiftPast =
    (logRatio + (hour - 1 === state.lastHour ? state.lastLogRatio : 0)) / 2 >=
    (BURST_MARGIN * state.burstPeak) / Math.SQRT2;
  const sustained = elevated && !young && shiftBegan(state, hour) && shiftPast && besideUsual(0.5);
  // Prompt bloat: each request carries several times its usual tokens at about the usual request count,
  // a change in kind that total tokens show late on a noisy or sparse key.
  const perRequest = m.requests > 0 ? x / m.requests : 0;
  const perRequestLog =
    state.tokensPerRequest > 0 && perRequest > 0 ? Math.log(perRequest / state.tokensPerRequest) : 0;
  const bloated =
    !young &&
    !fewRequests &&
    perRequestLog >=
      Math.max(
        Math.log(BLOAT_RATIO),
        cfg.sensitivity * PER_REQUEST_SPREAD_TO_SIGMA * state.perRequestSpread,
      ) &&
    ratio >= cfg.minRatio;
  const opening =
    (unusual || sustained || bloated) && material(1) && !isRecurrence(state, hour, x, expected.tokens, cfg);
  return { expected, usdExpected, excessTokens, excessUsd, unusual, opening, elevated, logRatio };
}

/** The ratio `share` of the way from 1 to minRatio: the bar a share of the thresholds sets. */
function partWayToMinRatio(cfg: DetectionConfig, share: number): number {
  return 1 + (cfg.minRatio - 1) * share;
}

/**
 * Robust distance of an hour above its baseline, in scaled spreads, measured on tokens (not their
 * logarithm): the ratio's excess over 1 in units of the series' typical relative swing. A smooth series
 * (swings of 10%) is far off at 1.5x; a noisy one (swings of 3x) only at 10x or more.
 */
export function distance(ratio: number, sigma: number): number {
  return (ratio - 1) / Math.expm1(sigma);
}

/**
 * The same hour yesterday or last week was about as high and itself above the baseline (elevated when it
 * was seen, or half-way to minRatio above today's): a recurring job (nightly, weekly), not an incident.
 */
export function isRecurrence(
  state: SeriesState,
  hour: number,
  tokens: number,
  expectedTokens: number,
  cfg: DetectionConfig,
): boolean {
  const floor = expectedTokens * partWayToMinRatio(cfg, RECURRENCE_FLOOR_SHARE);
  for (const back of [24, RING_HOURS]) {
    const then = hour - back;
    if (then < state.firstHour || then <= state.lastHour - RING_HOURS) continue;
    const before = dequantizeTokens(state.ring[then % RING_HOURS] ?? 0);
    const elevatedThen = state.ringAnomalous[then % RING_HOURS] === true;
    if (before >= RECURRENCE_SHARE * tokens && (elevatedThen || before >= floor)) return true;
  }
  return false;
}

/** The highest hour of the last week, whatever it was judged then. */
function recentPeak(state: SeriesState, hour: number): number {
  let peak = 0;
  for (let h = Math.max(state.firstHour, hour - RING_HOURS, state.lastHour - RING_HOURS + 1); h < hour; h++)
    peak = Math.max(peak, dequantizeTokens(state.ring[h % RING_HOURS] ?? 0));
  return peak;
}

/**
 * A short incident that stayed cheap (a key's evaluation run or small batch, paged once): once over, it
 * counts among the key's bursts, so an hour no larger does not page again alone. A costly one never does.
 */
function routineBurst(incident: IncidentState): boolean {
  return incidentHours(incident) <= ROUTINE_BURST_HOURS && incident.excessUsd < ROUTINE_BURST_MAX_USD;
}

/** From an incident's first hour to its last elevated one: what the recovery notice gives as its duration. */
function incidentHours(incident: IncidentState): number {
  return incident.lastAbnormalHour - incident.startHour + 1;
}

/** The largest ln(observed / expected) of an incident's hours, read back from the week kept. */
function incidentPeak(state: SeriesState, incident: IncidentState): number {
  let peak = 0;
  for (let h = incident.startHour; h <= incident.lastAbnormalHour; h++) {
    const tokens = dequantizeTokens(state.ring[h % RING_HOURS] ?? 0);
    peak = Math.max(peak, toLog(tokens) - toLog(expectation(state, h).tokens));
  }
  return peak;
}

/**
 * Raises the burst peak, or holds the burst back a day: while the hour's slot has seen too few hours for
 * its daily pattern to be known (`own`: the hour itself already learned), as a key's first daily batch
 * looks like a burst against a level that does not know its hour yet; and when it is ten times or more.
 */
function learnBurst(state: SeriesState, hour: number, logRatio: number, own: number): void {
  if (logRatio <= state.burstPeak) return;
  logRatio = besideWeekendEdge(state, hour, logRatio);
  if (logRatio <= state.burstPeak) return;
  const slotKnown = (state.slotCount[slotOf(state, hour)] ?? 0) - own >= BURST_SLOT_MIN_HOURS;
  if (slotKnown && logRatio < BURST_HOLD_LOG_RATIO) {
    state.burstPeak = logRatio;
  } else if (logRatio > state.pendingBurst * BURST_DECAY ** (hour - state.pendingBurstHour)) {
    state.pendingBurst = logRatio;
    state.pendingBurstHour = hour;
  }
}

/**
 * Summer time moves a team's weekend an hour in UTC, so the hour at its edge may belong to the other side:
 * there a burst counts only as far as it also tops the other side's level (a Monday's first hour after
 * the clocks change is no burst over a quiet Sunday night).
 */
function besideWeekendEdge(state: SeriesState, hour: number, logRatio: number): number {
  const own = expectation(state, hour).tokens;
  let least = logRatio;
  for (const move of [-1, 1]) {
    const moved = { ...state, weekendShift: state.weekendShift + move };
    if (slotOf(moved, hour) === slotOf(state, hour)) continue;
    const other = expectation(moved, hour).tokens;
    least = Math.min(least, logRatio + Math.log((own + LOG_OFFSET) / (other + LOG_OFFSET)));
  }
  return least;
}

/** A held-back burst, a day on: learned unless the same hour came back at least half as high. */
function settlePendingBurst(state: SeriesState, hour: number, tokens: number): void {
  if (state.pendingBurst <= 0 || hour < state.pendingBurstHour + 24) return;
  const then = dequantizeTokens(state.ring[state.pendingBurstHour % RING_HOURS] ?? 0);
  const recurred = hour === state.pendingBurstHour + 24 && tokens >= RECURRENCE_SHARE * then;
  if (!recurred)
    state.burstPeak = Math.max(
      state.burstPeak,
      state.pendingBurst * BURST_DECAY ** (hour - state.pendingBurstHour),
    );
  state.pendingBurst = 0;
}

/** The hour before was elevated, and not as a recurring job's hour (its log ratio was kept at most 0). */
function shiftBegan(state: SeriesState, hour: number): boolean {
  const then = hour - 1;
  return (
    then >= state.firstHour &&
    then === state.lastHour &&
    state.ringAnomalous[then % RING_HOURS] === true &&
    state.lastLogRatio > 0
  );
}

function recentFromRing(state: SeriesState, hour: number): number[] {
  const out: number[] = [];
  for (let h = hour - RECENT_HOURS + 1; h <= hour; h++) {
    out.push(h < state.firstHour ? 0 : dequantizeTokens(state.ring[h % RING_HOURS] ?? 0));
  }
  return out;
}
