// The series' own recent bursts, the bar an opening hour must top: a decaying maximum of
// ln(observed / expected) over hours outside incidents, so a key that bursts 5x a few times a week without
// anyone calling it an incident pages only well past that, while a smooth key keeps its full sensitivity.
// The peak remembers about a month (half-life four weeks). A burst seen before its hour's daily pattern
// is known, or of ten times or more, counts a day later, unless that hour came back as high (a daily job
// summer time moved); one at the edge of the weekend counts only above the other side's level too (summer
// time moves it). A short incident that stayed cheap counts once it is over, so a key whose routine runs
// page once does not page for each of them; a costly one never does.
import { expectation, LOG_OFFSET, slotOf, toLog } from './baseline.ts';
import { incidentHours, SEVERITY_FLOORS_USD } from './incident.ts';
import { RECURRENCE_SHARE } from './recurrence.ts';
import { ringTokens } from './series-ring.ts';
import type { IncidentState, SeriesState } from './series-state.ts';

/** An opening hour's log ratio must exceed the series' recent burst peak by this factor. */
export const BURST_MARGIN = 1.1;
/**
 * The burst peak halves in four weeks: what the series has done in the last month or two, not only last
 * week, so a key that bursts every week or two does not page again each time a quiet week has passed.
 */
const BURST_HALF_LIFE_HOURS = 4 * 168;
export const BURST_DECAY = 2 ** (-1 / BURST_HALF_LIFE_HOURS);
/**
 * A burst in a slot with fewer hours of use than this is held back a day: before a key's daily pattern
 * is known (its first days), its daily batch looks like a burst and would raise the bar for weeks.
 */
const BURST_SLOT_MIN_HOURS = 2;
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

export interface BurstHour {
  tokens: number;
  /** ln(observed / expected) of the hour, with the log offset. */
  logRatio: number;
  /**
   * The hour may teach the peak: outside incidents, not elevated, on a key with a level. Then it counts,
   * and so does the hour before, a burst the series is now back from.
   */
  teaches: boolean;
}

/** One hour's part in the burst peak: it decays, a held-back burst is settled, and the hour may teach it. */
export function updateBurstPeak(state: SeriesState, hour: number, h: BurstHour): void {
  state.burstPeak *= BURST_DECAY;
  settlePendingBurst(state, hour, h.tokens);
  if (!h.teaches) return;
  if (h.tokens > 0) learnBurst(state, hour, h.logRatio, 0);
  if (hour - 1 === state.lastHour) learnBurst(state, hour - 1, state.lastLogRatio * BURST_DECAY, 1);
}

/**
 * An incident just resolved: if it was short and stayed cheap (a key's evaluation run or small batch,
 * paged once), its highest hour counts among the key's bursts, so an hour no larger does not page again
 * alone. A costly one never does.
 */
export function learnRoutineIncident(state: SeriesState, incident: IncidentState): void {
  if (incidentHours(incident) > ROUTINE_BURST_HOURS || incident.excessUsd >= ROUTINE_BURST_MAX_USD) return;
  state.burstPeak = Math.max(state.burstPeak, incidentPeak(state, incident));
}

/** The largest ln(observed / expected) of an incident's hours, read back from the week kept. */
function incidentPeak(state: SeriesState, incident: IncidentState): number {
  let peak = 0;
  for (let h = incident.startHour; h <= incident.lastAbnormalHour; h++) {
    peak = Math.max(peak, toLog(ringTokens(state, h)) - toLog(expectation(state, h).tokens));
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
  const then = ringTokens(state, state.pendingBurstHour);
  const recurred = hour === state.pendingBurstHour + 24 && tokens >= RECURRENCE_SHARE * then;
  if (!recurred)
    state.burstPeak = Math.max(
      state.burstPeak,
      state.pendingBurst * BURST_DECAY ** (hour - state.pendingBurstHour),
    );
  state.pendingBurst = 0;
}
