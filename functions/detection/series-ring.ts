// The week of raw hours a series keeps (its ring): read back for last week's peak, recurrences, level
// shifts (which hours were elevated), an incident's hours, the volume rule's stretches and the sparkline.
import { RING_HOURS, type SeriesState } from './series-state.ts';
import { dequantizeTokens } from './series-state-codec.ts';

/** Sparkline length. */
const RECENT_HOURS = 48;

/** Tokens of an hour of the last week, as kept (quantized). */
export function ringTokens(state: SeriesState, hour: number): number {
  return dequantizeTokens(state.ring[hour % RING_HOURS] ?? 0);
}

/** Whether an hour of the last week was elevated (above half the thresholds): a level shift's evidence. */
export function ringElevated(state: SeriesState, hour: number): boolean {
  return hour >= state.firstHour && state.ringAnomalous[hour % RING_HOURS] === true;
}

/** Whether an hour of the last week belonged to an incident. */
export function ringInIncident(state: SeriesState, hour: number): boolean {
  return hour >= state.firstHour && state.ringIncident[hour % RING_HOURS] === true;
}

/** How many hours right before `hour` were elevated, in a row, counting back at most `max`. */
export function ringElevatedRun(state: SeriesState, hour: number, max: number): number {
  let hours = 0;
  while (hours < max && ringElevated(state, hour - hours - 1)) hours += 1;
  return hours;
}

/**
 * The most tokens the last week saw in `hours` hours in a row (by default its highest hour), whatever they
 * were judged then.
 */
export function recentPeak(state: SeriesState, hour: number, hours = 1): number {
  const from = Math.max(state.firstHour, hour - RING_HOURS, state.lastHour - RING_HOURS + 1);
  // A sliding sum: the hours from `from` up to each window's last hour, less those before its first.
  let peak = 0;
  let tokens = 0;
  for (let last = from; last < hour; last++) {
    tokens += ringTokens(state, last);
    if (last - hours >= from) tokens -= ringTokens(state, last - hours);
    if (last - hours + 1 >= from) peak = Math.max(peak, tokens);
  }
  return peak;
}

/** The last RECENT_HOURS hours up to `hour`, oldest first: an alert's sparkline. */
export function recentFromRing(state: SeriesState, hour: number): number[] {
  const out: number[] = [];
  for (let h = hour - RECENT_HOURS + 1; h <= hour; h++) {
    out.push(h < state.firstHour ? 0 : ringTokens(state, h));
  }
  return out;
}
