// The pure detector: one series, one hour, its state before and after. No I/O, so it is tested alone.
//
// Each hour is judged against the series' seasonal baseline (assess-hour.ts: what opens an incident, and
// what keeps one going), then learned. Incidents have a lifecycle: opened (a spike alert); ongoing (no new
// page unless it escalates by a severity level or the repeat interval passes); resolved once the series
// has been back within its baseline for `recoveryHours` hours in a row (a recovery notice). While an
// incident is open the baseline does not learn (for up to two days; a longer one is accepted as the new
// level). Once warm, an elevated hour teaches nothing either, so the first hours of a ramp or a step do
// not widen the band the next ones are judged by; a one-hour burst the series comes back from is learned
// late, as normal behaviour. The series' recent bursts, the bar an opening hour must top, are learned
// in burst-peak.ts; its cost per token and request size in unit-rates.ts.
import type { DetectionConfig } from '../config/config-schema.ts';
import type { Alert, AlertType } from '../core/alert.ts';
import { HOUR_SECONDS } from '../core/usage.ts';
import { assess, MIN_USED_HOURS, startedShort } from './assess-hour.ts';
import { expectation, learn, RUN_RATIO, toLog } from './baseline.ts';
import { learnRoutineIncident, updateBurstPeak } from './burst-peak.ts';
import { type AlertFigures, incidentHours, makeAlert, severityAt, severityIndex } from './incident.ts';
import { isRecurrence } from './recurrence.ts';
import { emptyMetrics, type SeriesHourMetrics } from './series-metrics.ts';
import { recentFromRing, ringElevated, ringElevatedRun, ringTokens } from './series-ring.ts';
import {
  cloneSeriesState,
  type IncidentState,
  newSeriesState,
  RING_HOURS,
  type SeriesState,
} from './series-state.ts';
import { quantizeTokens } from './series-state-codec.ts';
import { updateTokenPeak } from './token-peak.ts';
import { learnUnitRates } from './unit-rates.ts';
import { settleWeekend } from './weekend-shift.ts';
import { learnWindowPeak, stretchStart, usualVolume } from './window-volume.ts';

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
/**
 * An incident that outlasted the freeze and closes with its key still this many times its usual level
 * closes as the key's new normal (its band widened while it was learned again); one that came back down
 * closes as back to normal.
 */
const NEW_NORMAL_RATIO = 1.5;
/** Gaps longer than this are filled with only their last hours (a longer silence teaches no more). */
const MAX_GAP_FILL_HOURS = 24 * 21;
/** A key is new for its first hours of use: one that starts small and grows is judged by its baseline. */
const NEW_KEY_USED_HOURS = 3;

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
    if (a.goingOn) {
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
        drafts.push({
          ...incidentDraft(base, 'reminder', incident, hourSeverity),
          ...(escalated ? { escalated } : {}),
        });
      }
    } else {
      incident.normalStreak += 1;
      if (incident.normalStreak >= cfg.recoveryHours) {
        state.incident = null;
        learnRoutineIncident(state, incident);
        const outlastedFreeze = !frozen;
        const newNormal = outlastedFreeze && m.tokens >= NEW_NORMAL_RATIO * a.expected.tokens;
        if (outlastedFreeze && !newNormal) {
          // Days long and over, the incident ran through every hour of the day: its hours are no job's
          // unless it begins again a week on (see recurrence.ts).
          state.longIncidentStart = incident.startHour;
          state.longIncidentEnd = hour;
        }
        if (input.notifications.recoveryNotices && !priming) {
          drafts.push({
            ...incidentDraft(base, 'resolved', incident, incident.alertedSeverity),
            durationHours: incidentHours(incident),
            ...(newNormal ? { newNormal } : {}),
          });
        }
      }
    }
  } else if (a.opening && warm && !priming) {
    // The incident began with the elevated hours just before the one that opened it (a level shift's
    // first hour, a long run's first nine) and the run's first hour if it fell short of elevated, or with
    // the half day the volume rule looked at: its start and its excess so far count them, at this hour's
    // cost per excess token.
    const run = a.byVolume ? volumeRunBefore(state, hour, cfg) : elevatedRunBefore(state, hour, cfg);
    const excessTokens = Math.max(0, a.excessTokens);
    const usdPerExcessToken = excessTokens > 0 ? Math.max(0, a.excessUsd) / excessTokens : state.usdPerToken;
    const opened: IncidentState = {
      startHour: hour - run.hours,
      lastAlertHour: hour,
      alertedSeverity: hourSeverity,
      lastAbnormalHour: hour,
      normalStreak: 0,
      excessTokens: excessTokens + run.excessTokens,
      excessUsd: Math.max(0, a.excessUsd) + run.excessTokens * usdPerExcessToken,
    };
    state.incident = opened;
    state.lastIncidentStart = opened.startHour;
    for (let h = opened.startHour; h < hour; h++) state.ringIncident[h % RING_HOURS] = true;
    inIncident = true;
    frozen = true;
    drafts.push(incidentDraft(base, 'spike', opened, hourSeverity));
  }

  // Learning: an incident's hours and (once warm) anomalous hours teach nothing; everything else is
  // learned with clipping, so a wild hour during warm-up moves the baseline only a little.
  // Elevated hours (above half the thresholds) teach nothing once warm: the first hours of a ramp or a
  // step must not widen the band the next hours are judged by.
  // Nor, once warm, does an hour of a run (this one and the last at RUN_RATIO or more) widen the recent
  // spread (see baseline.ts).
  const anomalous = a.elevated;
  const recurring = a.elevated && isRecurrence(state, hour, m.tokens, a.expected.tokens, cfg);
  const inRun =
    warm && hour - 1 === state.lastHour && Math.min(state.lastLogRatio, a.logRatio) >= Math.log(RUN_RATIO);
  if (inIncident && !frozen) learn(state, hour, m.tokens, 'free', inRun);
  else if (!inIncident && !(warm && a.elevated && !recurring)) learn(state, hour, m.tokens, 'clipped', inRun);
  // A one-hour burst the series came back from is part of its normal behaviour: learned late, so a
  // step or a ramp (still elevated next hour) never is.
  if (
    !inIncident &&
    !a.elevated &&
    warm &&
    hour - 1 === state.lastHour &&
    state.lastLogRatio > 0 &&
    ringElevated(state, hour - 1)
  )
    learn(state, hour - 1, ringTokens(state, hour - 1), 'clipped');
  if (m.tokens > 0 && !anomalous) learnUnitRates(state, m);
  // The burst peak learns from hours outside incidents (a burst that did not open one, not an incident).
  // An elevated hour counts once the series is back (a burst); a step or a ramp stays elevated and
  // does not raise the bar its own next hours are judged by.
  updateBurstPeak(state, hour, {
    tokens: m.tokens,
    logRatio: a.logRatio,
    teaches: !inIncident && !a.elevated && state.usedHours >= MIN_USED_HOURS && (priming || warm),
  });
  updateTokenPeak(state, m.tokens, !inIncident && !a.elevated);
  learnWindowPeak(state, hour);
  // A recurring job's hour is no burst: it neither raises the bar nor counts as a shift's first hour.
  state.lastLogRatio = recurring ? Math.min(0, a.logRatio) : a.logRatio;
  const slot = hour % RING_HOURS;
  state.ring[slot] = quantizeTokens(m.tokens);
  state.ringAnomalous[slot] = anomalous;
  state.ringIncident[slot] = state.incident !== null;
  state.lastHour = hour;
  if (m.tokens > 0) {
    state.lastSeenHour = hour;
    // Counted whether learned or not: a key with a few hours of use that jumps and stays up (a leak)
    // learns nothing, and must not stay too young to page for as long as the leak runs.
    state.usedHours = Math.min(65535, state.usedHours + 1);
  }
  if (!state.weekendSettled && hour - state.firstHour + 1 >= RING_HOURS) settleWeekend(state, hour);

  if (drafts.length) {
    const recentTokens = recentFromRing(state, hour);
    for (const d of drafts) alerts.push(makeAlert({ ...d, recentTokens }));
  }
}

/** Longest a new incident is dated back: a day (longer runs have passed for recurrences and been learned). */
const MAX_RUN_BEFORE_HOURS = 24;

interface RunBefore {
  hours: number;
  excessTokens: number;
}

/** The elevated hours right before `hour`, in a row, with a first hour short of elevated, and their excess. */
function elevatedRunBefore(state: SeriesState, hour: number, cfg: DetectionConfig): RunBefore {
  let hours = ringElevatedRun(state, hour, MAX_RUN_BEFORE_HOURS);
  if (hours < MAX_RUN_BEFORE_HOURS && startedShort(state, hour - hours - 1, cfg)) hours += 1;
  return { hours, excessTokens: excessBefore(state, hour, hours, (h) => expectation(state, h).tokens) };
}

/** The volume rule's half day from its first running hour, and its tokens over its hours' usual volume. */
function volumeRunBefore(state: SeriesState, hour: number, cfg: DetectionConfig): RunBefore {
  const usualAt = (h: number) => expectation(state, h);
  const hours = hour - stretchStart(state, hour, usualAt, cfg);
  return { hours, excessTokens: excessBefore(state, hour, hours, (h) => usualVolume(usualAt(h))) };
}

function excessBefore(state: SeriesState, hour: number, hours: number, usual: (h: number) => number): number {
  let excessTokens = 0;
  for (let h = hour - hours; h < hour; h++) excessTokens += Math.max(0, ringTokens(state, h) - usual(h));
  return excessTokens;
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
