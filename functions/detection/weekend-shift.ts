// Where a series' weekend falls. Slots are hour of day (UTC) x weekday/weekend, but a key's weekend is
// its team's: for a team in Singapore it starts Friday 16:00 UTC, in California Saturday 08:00 UTC. Judged
// by UTC days, a Monday morning in Asia is a Sunday evening and one slot mixes the busiest and the
// quietest hours: its band is wide (gentle spikes hide in it) and a Sunday after a quiet week pages.
// Once a series has a week of history its weekend is located: the time-zone shift under which the slots
// fit the week kept best, if it beats UTC by a clear margin. The slots are then relearned from that week
// under the new shift.
import { learnSlot, slotOf, toLog } from './baseline.ts';
import { ringTokens } from './series-ring.ts';
import { RING_HOURS, type SeriesState, SLOT_COUNT } from './series-state.ts';

/** Shifts tried: the world's UTC offsets, whole hours. */
const MIN_SHIFT = -12;
const MAX_SHIFT = 14;
/**
 * A shift must fit the week's slots this much better than UTC (a share of the squared deviations), so
 * a key with no weekly pattern keeps UTC days and noise does not move a weekend.
 */
const MIN_GAIN = 0.2;

/**
 * Locates the series' weekend from the week that ends at `hour` (the ring) and, if it moves, relearns the
 * slots from that week. Called once, when the series first has a full week.
 */
export function settleWeekend(state: SeriesState, hour: number): void {
  state.weekendSettled = true;
  const shift = bestShift(state, hour);
  if (shift === state.weekendShift) return;
  state.weekendShift = shift;
  for (const slots of [state.slotMean, state.slotSpread, state.slotCount, state.slotUse, state.slotSeen])
    slots.fill(0, 0, SLOT_COUNT);
  for (let h = hour - RING_HOURS + 1; h <= hour; h++) learnSlot(state, h, ringTokens(state, h), 'clipped');
}

function bestShift(state: SeriesState, hour: number): number {
  const first = hour - RING_HOURS + 1;
  const week: number[] = [];
  for (let h = first; h <= hour; h++) week.push(toLog(ringTokens(state, h)));
  // How badly the slots fit the week: the squared deviations from each slot's mean. Every shift puts
  // two days of each hour of day in the weekend, so the sums compare fairly.
  const misfit = (shift: number): number => {
    const sum = new Array<number>(SLOT_COUNT).fill(0);
    const sumSquares = new Array<number>(SLOT_COUNT).fill(0);
    const count = new Array<number>(SLOT_COUNT).fill(0);
    week.forEach((x, i) => {
      const slot = slotOf({ weekendShift: shift }, first + i);
      sum[slot] = (sum[slot] ?? 0) + x;
      sumSquares[slot] = (sumSquares[slot] ?? 0) + x * x;
      count[slot] = (count[slot] ?? 0) + 1;
    });
    let total = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      const n = count[s] ?? 0;
      if (n > 0) total += (sumSquares[s] ?? 0) - (sum[s] ?? 0) ** 2 / n;
    }
    return total;
  };
  const utc = misfit(0);
  let best = 0;
  let bestMisfit = utc;
  for (let shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
    const m = misfit(shift);
    if (m < bestMisfit) {
      best = shift;
      bestMisfit = m;
    }
  }
  return bestMisfit <= (1 - MIN_GAIN) * utc ? best : 0;
}
