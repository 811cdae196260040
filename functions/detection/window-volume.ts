// Volume over half a day: the last VOLUME_WINDOW_HOURS hours together used minRatio times more tokens
// than any such stretch the key has done, a safety net under the hour-by-hour rules. A leak on a key
// used in bursts, running hour after hour under the key's busiest hour, or a step on a noisy key whose
// every hour stays inside its wide band, passes each hour's test and never pages; a half day of it
// stands out. The stretch must be most of its hours above their baseline (a leak or a step runs; a CI
// key's one big build does not), and compares with every stretch of the last week (daily jobs, the busy
// days) and the busiest one outside incidents before it (weekly jobs, see learnWindowPeak). Hours of an
// incident already paged are no part of it: the volume a page has told of does not page again.
import type { DetectionConfig } from '../config/config-schema.ts';
import { type Expectation, LOG_OFFSET } from './baseline.ts';
import { recentPeak, ringInIncident, ringTokens } from './series-ring.ts';
import { RING_HOURS, type SeriesState } from './series-state.ts';
import { partWayToMinRatio } from './thresholds.ts';
import { TOKEN_PEAK_DECAY } from './token-peak.ts';

export const VOLUME_WINDOW_HOURS = 12;
/** Hours of the stretch that must be above their baseline (half-way to minRatio): it runs. */
const RUNNING_SHARE = 0.75;

/**
 * The stretch beginning a week ago leaves the ring with this hour: the window peak keeps the busiest of
 * them outside incidents, decaying, so last week's weekly job is still known when this week's runs (and
 * a leak paged last month sets no bar). Called every hour, before the hour is written to the ring.
 */
export function learnWindowPeak(state: SeriesState, hour: number): void {
  state.windowPeak *= TOKEN_PEAK_DECAY; // halves in eight weeks, as the token peak does
  const from = hour - RING_HOURS;
  if (from < state.firstHour || anyInIncident(state, from, from + VOLUME_WINDOW_HOURS - 1)) return;
  state.windowPeak = Math.max(state.windowPeak, stretchTokens(state, from + VOLUME_WINDOW_HOURS - 1));
}

/**
 * The stretch ending with this hour (`tokens`) is minRatio past its baseline, past every stretch the key
 * has done, material over all of them, and most of its hours above their baseline. Needs a week of
 * history (the ring full) and no incident's hour in the stretch.
 */
export function pastWindowVolume(
  state: SeriesState,
  hour: number,
  tokens: number,
  expectedAt: (hour: number) => Expectation,
  cfg: DetectionConfig,
): boolean {
  const first = hour - VOLUME_WINDOW_HOURS + 1;
  if (hour - RING_HOURS < state.firstHour || anyInIncident(state, first, hour - 1)) return false;
  // The latest incident began about a week before: a weekly job paged once, whose run of this week is
  // no incident and sets the bar for the next (or a leak back at the hours it ran, for the hour's rules).
  if (Math.abs(state.lastIncidentStart + RING_HOURS - hour) <= VOLUME_WINDOW_HOURS) return false;
  const volume = tokens + stretchTokens(state, hour - 1, VOLUME_WINDOW_HOURS - 1);
  let expected = 0;
  let running = 0;
  for (let h = first; h <= hour; h++) {
    const e = usualVolume(expectedAt(h));
    expected += e;
    if (runs(h === hour ? tokens : ringTokens(state, h), e, cfg)) running += 1;
  }
  const past = (bar: number) =>
    volume >= cfg.minRatio * bar && volume - bar >= cfg.minExcessTokens * VOLUME_WINDOW_HOURS;
  // Cheapest first: the week's stretches are read only for a stretch past its baseline and the peak.
  return (
    running >= RUNNING_SHARE * VOLUME_WINDOW_HOURS &&
    past(Math.max(expected, state.windowPeak)) &&
    past(recentPeak(state, first, VOLUME_WINDOW_HOURS))
  );
}

/** What an hour uses on average: the level when used times the chance of use (a sparse key's is small). */
export const usualVolume = (e: Expectation): number => e.tokens * e.use;

/** An hour of the stretch above its usual volume, half-way to minRatio: the leak or the step runs in it. */
const runs = (tokens: number, usual: number, cfg: DetectionConfig): boolean =>
  tokens + LOG_OFFSET >= partWayToMinRatio(cfg, 0.5) * (usual + LOG_OFFSET);

/**
 * The first hour the volume rule's stretch ending with `hour` runs in: where the incident it opens began.
 * `hour` itself when no hour before it in the stretch does.
 */
export function stretchStart(
  state: SeriesState,
  hour: number,
  expectedAt: (hour: number) => Expectation,
  cfg: DetectionConfig,
): number {
  for (let h = hour - VOLUME_WINDOW_HOURS + 1; h < hour; h++) {
    if (runs(ringTokens(state, h), usualVolume(expectedAt(h)), cfg)) return h;
  }
  return hour;
}

function anyInIncident(state: SeriesState, first: number, last: number): boolean {
  for (let h = first; h <= last; h++) if (ringInIncident(state, h)) return true;
  return false;
}

/** Tokens of the `hours` hours of the ring ending with `last`. */
function stretchTokens(state: SeriesState, last: number, hours = VOLUME_WINDOW_HOURS): number {
  let sum = 0;
  for (let h = last - hours + 1; h <= last; h++) sum += ringTokens(state, h);
  return sum;
}
