import { describe, expect, it } from 'vitest';
import { toLog } from '../../functions/detection/baseline.ts';
import { BURST_DECAY, learnRoutineIncident, updateBurstPeak } from '../../functions/detection/burst-peak.ts';
import {
  type IncidentState,
  newSeriesState,
  RING_HOURS,
  type SeriesState,
} from '../../functions/detection/series-state.ts';
import { quantizeTokens } from '../../functions/detection/series-state-codec.ts';

/** A Wednesday, 12:00 UTC (hour 0 was a Thursday): no weekend edge near it. */
const H = (7 * 59 + 6) * 24 + 12;
const LEVEL = 100_000;

/** A series at 100,000 tokens an hour in every slot, each slot seen `slotHours` times, last applied well before H. */
function steadySeries(slotHours = 5): SeriesState {
  const state = newSeriesState(H - 3 * RING_HOURS, toLog(LEVEL));
  state.slotMean.fill(toLog(LEVEL));
  state.slotCount.fill(slotHours);
  state.lastHour = H - 10;
  return state;
}

const quiet = { tokens: LEVEL, logRatio: 0, teaches: true };

describe("a series' burst peak", () => {
  it('learns a burst once the series is back from it, not while it lasts', () => {
    const state = steadySeries();
    state.lastHour = H - 1;
    state.lastLogRatio = Math.log(5);
    updateBurstPeak(state, H, { ...quiet, teaches: false });
    expect(state.burstPeak).toBe(0);
    state.lastHour = H;
    updateBurstPeak(state, H + 1, quiet);
    expect(state.burstPeak).toBeCloseTo(Math.log(5) * BURST_DECAY);
  });

  it('halves in four weeks', () => {
    const state = steadySeries();
    state.burstPeak = 1;
    for (let h = H; h < H + 4 * RING_HOURS; h++) updateBurstPeak(state, h, { ...quiet, teaches: false });
    expect(state.burstPeak).toBeCloseTo(0.5);
  });

  it("holds back a burst seen before its hour's daily pattern is known: a day later it counts, unless that hour came back", () => {
    for (const [nextDay, learned] of [
      [LEVEL, true],
      [4 * LEVEL, false],
    ] as const) {
      const state = steadySeries(0);
      updateBurstPeak(state, H, { tokens: 5 * LEVEL, logRatio: Math.log(5), teaches: true });
      state.ring[H % RING_HOURS] = quantizeTokens(5 * LEVEL);
      expect(state.burstPeak).toBe(0);
      for (let h = H + 1; h < H + 24; h++) updateBurstPeak(state, h, quiet);
      expect(state.burstPeak).toBe(0);
      updateBurstPeak(state, H + 24, { ...quiet, tokens: nextDay });
      expect(state.burstPeak > 0).toBe(learned);
    }
  });

  it('holds back a burst of ten times or more, however well its hour is known', () => {
    const state = steadySeries();
    updateBurstPeak(state, H, { tokens: 12 * LEVEL, logRatio: Math.log(12), teaches: true });
    expect(state.burstPeak).toBe(0);
    expect(state.pendingBurst).toBeCloseTo(Math.log(12));
  });
});

describe('a routine incident, once over', () => {
  function incidentOver(hours: number, excessUsd: number): SeriesState {
    const state = steadySeries();
    [LEVEL, 10 * LEVEL, 3 * LEVEL].forEach((tokens, i) => {
      state.ring[(H + i) % RING_HOURS] = quantizeTokens(tokens);
    });
    const incident: IncidentState = {
      startHour: H,
      lastAlertHour: H,
      alertedSeverity: 0,
      lastAbnormalHour: H + hours - 1,
      normalStreak: 3,
      excessTokens: 12 * LEVEL,
      excessUsd,
    };
    learnRoutineIncident(state, incident);
    return state;
  }

  it('raises the peak to its highest hour when it was short and cheap', () => {
    const { burstPeak } = incidentOver(3, 2);
    expect(burstPeak).toBeGreaterThan(Math.log(9));
    expect(burstPeak).toBeLessThan(Math.log(11));
  });

  it('never when it cost $5 or more, or lasted more than six hours', () => {
    expect(incidentOver(3, 5).burstPeak).toBe(0);
    expect(incidentOver(7, 2).burstPeak).toBe(0);
  });
});
