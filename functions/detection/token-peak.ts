// The series' busiest ordinary hour of the last couple of months: a decaying maximum of the tokens of
// hours outside incidents and inside their band. Last week's busiest hour (in the ring) is how big a key's
// bursts run, but a key used a few hours a week shows one or two of them a week: this remembers the bigger
// ones before, so a session a little past last week's biggest is no news on such a key.
import { recentPeak } from './series-ring.ts';
import type { SeriesState } from './series-state.ts';

/** The peak halves in eight weeks: a key's big sessions of last month still count, last season's less. */
const TOKEN_PEAK_HALF_LIFE_HOURS = 8 * 168;
export const TOKEN_PEAK_DECAY = 2 ** (-1 / TOKEN_PEAK_HALF_LIFE_HOURS);

/** One hour's part in the token peak: it decays, and an ordinary hour (`teaches`) may raise it. */
export function updateTokenPeak(state: SeriesState, tokens: number, teaches: boolean): void {
  state.tokenPeak *= TOKEN_PEAK_DECAY;
  if (teaches) state.tokenPeak = Math.max(state.tokenPeak, tokens);
}

/** The busiest single hour the series is known for before `hour`: last week's, or an ordinary one before. */
export function busiestHour(state: SeriesState, hour: number): number {
  return Math.max(recentPeak(state, hour), state.tokenPeak);
}
