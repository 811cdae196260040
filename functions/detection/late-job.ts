// Late jobs: a key's job that did not run at its usual hour and runs a few hours later is no spike. Batch
// jobs wait on their inputs, retry after a failure, and move with summer time.
import { type Expectation, SPARSE_USE } from './baseline.ts';
import { ringTokens } from './series-ring.ts';
import type { SeriesState } from './series-state.ts';

/** A job this many hours late is still the same job. */
export const LATE_JOB_HOURS = 6;
/** The job's hour (one the key is not rarely used in) came in at under this share of its usual level ... */
const MISSED_SHARE = 0.5;
/** ... its usual level at least this share of the late hour's tokens ... */
const JOB_SIZE_SHARE = 0.5;
/** ... and the late hour is over its own normal by at most this many times what went missing. */
const MAKE_UP_FACTOR = 2;

/**
 * In the last few hours a usual hour came in short, and this hour is about its size and over its own
 * normal by about what went missing: a job running late, not an incident.
 */
export function isLateJob(
  state: SeriesState,
  hour: number,
  tokens: number,
  excessTokens: number,
  expectedAt: (hour: number) => Expectation,
): boolean {
  for (let h = Math.max(state.firstHour, hour - LATE_JOB_HOURS); h < hour; h++) {
    const usual = expectedAt(h);
    if (usual.use < SPARSE_USE || usual.tokens < JOB_SIZE_SHARE * tokens) continue;
    const missing = usual.tokens - ringTokens(state, h);
    if (missing > (1 - MISSED_SHARE) * usual.tokens && excessTokens <= MAKE_UP_FACTOR * missing) return true;
  }
  return false;
}
