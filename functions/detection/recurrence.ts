// Recurring jobs: an hour as high as the same hour yesterday or last week is a nightly or weekly job,
// not an incident. The hours of an incident that ran for days and came back down are no job's: a leak
// last week at every hour of the day makes no loop this week at one of them a recurrence.
import type { DetectionConfig } from '../config/config-schema.ts';
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
    if (then >= state.longIncidentStart && then <= state.longIncidentEnd) continue;
    const before = ringTokens(state, then);
    if (before >= RECURRENCE_SHARE * tokens && (ringElevated(state, then) || before >= floor)) return true;
  }
  return false;
}
