// What the detector remembers of one series between hours. Hours are counted as unix seconds / 3600.
export const SLOT_COUNT = 48;
/** Raw hourly history kept: one week, enough for last week's same hour and the 48-hour sparkline. */
export const RING_HOURS = 168;
export const MAX_SLOT_COUNT = 15;

export interface IncidentState {
  startHour: number;
  lastAlertHour: number;
  /** Index into SEVERITIES of the highest severity alerted so far. */
  alertedSeverity: number;
  lastAbnormalHour: number;
  /** Consecutive hours back within the baseline. */
  normalStreak: number;
  excessTokens: number;
  excessUsd: number;
}

export interface SeriesState {
  firstHour: number;
  /** The last hour applied; applying an hour at or before it is a no-op. */
  lastHour: number;
  /** The last hour with usage; the item expires 30 days after it. */
  lastSeenHour: number;
  /** A new_key alert was sent, or the key was known before it could count as new. */
  newKeyAlerted: boolean;
  /** Level and spread (mean absolute residual) of ln(tokens + LOG_OFFSET) over hours with usage. */
  globalMean: number;
  globalSpread: number;
  /** Share of hours with usage. */
  globalUse: number;
  /** Hours with usage seen (capped at 65535): few of them, little confidence in the level. */
  usedHours: number;
  /** Mean absolute residual of the last few hours with usage: noisy spells raise the bar for a while. */
  recentSpread: number;
  usdPerToken: number;
  tokensPerRequest: number;
  /** Mean absolute deviation of ln(tokens per request / tokensPerRequest): how much request size varies. */
  perRequestSpread: number;
  /**
   * The series' own recent bursts: a decaying maximum of ln(observed / expected) over hours outside
   * incidents. A key that often bursts 5x without anyone calling it an incident must burst well past
   * that to page; a smooth key keeps its full sensitivity.
   */
  burstPeak: number;
  /** Tokens of the busiest ordinary hour of the last couple of months, decaying (see token-peak.ts). */
  tokenPeak: number;
  /**
   * First and last hour of the latest incident that outlasted the freeze and came back down (0 and 0:
   * none). It ran through every hour of the day, so its hours are no job's unless a run begins again when
   * it began, a week on (see recurrence.ts).
   */
  longIncidentStart: number;
  longIncidentEnd: number;
  /**
   * The most tokens of VOLUME_WINDOW_HOURS in a row outside incidents before the last week, decaying (see
   * window-volume.ts).
   */
  windowPeak: number;
  /** The hour the latest incident is dated from (0: none). */
  lastIncidentStart: number;
  /**
   * A burst seen while its hour's slot was still young (its daily pattern unknown), and its hour: learned
   * a day later unless the same hour came back as high (a daily job, not a burst).
   */
  pendingBurst: number;
  pendingBurstHour: number;
  /** ln(observed / expected) of the last hour applied: a level shift's first hour, as evidence. */
  lastLogRatio: number;
  /** Hours ahead of UTC the series' days run (its team's time zone, as far as its weekend shows). */
  weekendShift: number;
  /** The weekend was located (after a week of history; see weekend-shift.ts). */
  weekendSettled: boolean;
  /** Seasonal slots, hour of day (UTC) x weekday/weekend: the level when used, in log space. */
  slotMean: number[];
  slotSpread: number[];
  /** Hours with usage learned per slot, capped at MAX_SLOT_COUNT. */
  slotCount: number[];
  /** Share of the slot's hours with usage, and hours learned for it (capped at MAX_SLOT_COUNT). */
  slotUse: number[];
  slotSeen: number[];
  /** Quantized tokens of the last RING_HOURS hours, at index hour % RING_HOURS. */
  ring: number[];
  /** Hours of the ring that were elevated (above half the opening thresholds): a level shift's evidence. */
  ringAnomalous: boolean[];
  /** Hours of the ring that belong to an incident (from the hour it is dated from to its last open hour). */
  ringIncident: boolean[];
  incident: IncidentState | null;
}

/** A brand-new series, seen first at `hour`, whose first value is `logValue`. */
export function newSeriesState(hour: number, logValue: number): SeriesState {
  return {
    firstHour: hour,
    lastHour: hour - 1,
    lastSeenHour: hour,
    newKeyAlerted: false,
    globalMean: logValue,
    globalSpread: INITIAL_SPREAD,
    globalUse: 1,
    usedHours: 0,
    recentSpread: INITIAL_SPREAD,
    usdPerToken: 0,
    tokensPerRequest: 0,
    perRequestSpread: INITIAL_SPREAD,
    burstPeak: 0,
    tokenPeak: 0,
    longIncidentStart: 0,
    longIncidentEnd: 0,
    windowPeak: 0,
    lastIncidentStart: 0,
    pendingBurst: 0,
    pendingBurstHour: 0,
    lastLogRatio: 0,
    weekendShift: 0,
    weekendSettled: false,
    slotMean: new Array(SLOT_COUNT).fill(0),
    slotSpread: new Array(SLOT_COUNT).fill(0),
    slotCount: new Array(SLOT_COUNT).fill(0),
    slotUse: new Array(SLOT_COUNT).fill(0),
    slotSeen: new Array(SLOT_COUNT).fill(0),
    ring: new Array(RING_HOURS).fill(0),
    ringAnomalous: new Array(RING_HOURS).fill(false),
    ringIncident: new Array(RING_HOURS).fill(false),
    incident: null,
  };
}

/** Spread assumed before a series has shown its own: about a factor of 1.5 either way. */
export const INITIAL_SPREAD = 0.4;

/**
 * A copy the detector may change freely. States are flat numbers and arrays plus one flat incident, so
 * one level of copying is a deep copy, at a fraction of structuredClone's cost (it dominated priming).
 */
export function cloneSeriesState(state: SeriesState): SeriesState {
  const copy: Record<string, unknown> = { ...state };
  for (const [key, value] of Object.entries(copy)) {
    if (Array.isArray(value)) copy[key] = value.slice();
    else if (value !== null && typeof value === 'object') copy[key] = { ...value };
  }
  return copy as unknown as SeriesState;
}
