// Recurring jobs: an hour as high as the same hour yesterday or last week is a nightly or weekly job,
// not an incident. An incident that ran for days and came back down was a job only if this run began
// when it did, a week on (a weekly job running all weekend): otherwise its hours are a leak's, and make
// no loop at one of them, nor the leak coming back, a recurrence.
import type { DetectionConfig } from '../config/config-schema.ts';
import { LATE_JOB_HOURS } from './late-job.ts';
import { ringElevated, ringTokens } from './series-ring.ts';
import { RING_HOURS, type SeriesState } from './series-state.ts';
import { partWayToMinRatio } from './thresholds.ts';

/** A recurrence: the same hour yesterday or last week had at least this share of this hour's tokens. */
export const RECURRENCE_SHARE = 0.5;
/**
 * ... and itself that share of the way to minRatio above today's baseline, if it was not elevated when
 * seen: a weekly job a little bigger than last week is no incident because last week's run was judged
 * just under the bar.
 */
const RECURRENCE_FLOOR_SHARE = 0.5;

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
    const inLongIncident = then >= state.longIncidentStart && then <= state.longIncidentEnd;
    if (inLongIncident && !begunAgain(state, hour, back)) continue;
    const before = ringTokens(state, then);
    if (before >= RECURRENCE_SHARE * tokens && (ringElevated(state, then) || before >= floor)) return true;
  }
  return false;
}

/**
 * The series' latest long incident began again `back` hours after it began, once it was over (this hour,
 * or an elevated hour of the ring, as early or late as a job runs): a job's run, not a leak's.
 */
function begunAgain(state: SeriesState, hour: number, back: number): boolean {
  const again = state.longIncidentStart + back;
  if (again <= state.longIncidentEnd) return false;
  for (let h = again - LATE_JOB_HOURS; h <= Math.min(hour, again + LATE_JOB_HOURS); h++) {
    if (h === hour || ringElevated(state, h)) return true;
  }
  return false;
}
