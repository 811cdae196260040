import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { isRecurrence } from '../../functions/detection/recurrence.ts';
import { newSeriesState, RING_HOURS, type SeriesState } from '../../functions/detection/series-state.ts';
import { quantizeTokens } from '../../functions/detection/series-state-codec.ts';

const cfg = parseConfig({}).detection;
const NOW = 10_000;

/** A series seen for two weeks up to the hour before NOW, with `tokens` at the given hours back. */
function seriesWith(hoursBack: Record<number, { tokens: number; elevated?: boolean }>): SeriesState {
  const state = newSeriesState(NOW - 2 * RING_HOURS, 0);
  state.lastHour = NOW - 1;
  for (const [back, { tokens, elevated }] of Object.entries(hoursBack)) {
    const slot = (NOW - Number(back)) % RING_HOURS;
    state.ring[slot] = quantizeTokens(tokens);
    state.ringAnomalous[slot] = elevated === true;
  }
  return state;
}

describe('recurring jobs', () => {
  it('takes an hour as high as the same hour yesterday for a nightly job', () => {
    // Expected 20,000: the floor is 1.75 x 20,000 = 35,000; yesterday's 90,000 is past it and past half of
    // this hour's 150,000.
    expect(isRecurrence(seriesWith({ 24: { tokens: 90_000 } }), NOW, 150_000, 20_000, cfg)).toBe(true);
  });

  it('takes the same hour last week for a weekly job', () => {
    expect(isRecurrence(seriesWith({ [RING_HOURS]: { tokens: 90_000 } }), NOW, 150_000, 20_000, cfg)).toBe(
      true,
    );
  });

  it('is no recurrence when this hour is more than twice the last one', () => {
    expect(isRecurrence(seriesWith({ 24: { tokens: 60_000 } }), NOW, 150_000, 20_000, cfg)).toBe(false);
  });

  it('needs the earlier hour to have been above the baseline too, or elevated when it was seen', () => {
    // Expected 60,000: the floor is 105,000, and yesterday's 90,000 was an ordinary hour.
    expect(isRecurrence(seriesWith({ 24: { tokens: 90_000 } }), NOW, 150_000, 60_000, cfg)).toBe(false);
    const elevatedThen = seriesWith({ 24: { tokens: 90_000, elevated: true } });
    expect(isRecurrence(elevatedThen, NOW, 150_000, 60_000, cfg)).toBe(true);
  });

  it('takes no hour of an incident that ran for days and is over for a job', () => {
    const afterLeak = seriesWith({ 24: { tokens: 90_000, elevated: true } });
    afterLeak.longIncidentStart = NOW - 80;
    afterLeak.longIncidentEnd = NOW - 10;
    expect(isRecurrence(afterLeak, NOW, 150_000, 20_000, cfg)).toBe(false);
  });

  it("takes last week's hour of a days-long incident for a job's when this run began when it did", () => {
    // Last week's incident ran from 8 hours before this hour's counterpart for 60 hours.
    const weekly = seriesWith({ [RING_HOURS]: { tokens: 90_000, elevated: true } });
    weekly.longIncidentStart = NOW - RING_HOURS - 8;
    weekly.longIncidentEnd = weekly.longIncidentStart + 60;
    expect(isRecurrence(weekly, NOW, 150_000, 20_000, cfg)).toBe(false);
    // This week's run began 8 hours ago too (give or take six hours): a weekly job.
    for (let back = 1; back <= 9; back++) weekly.ringAnomalous[(NOW - back) % RING_HOURS] = true;
    expect(isRecurrence(weekly, NOW, 150_000, 20_000, cfg)).toBe(true);
  });

  it('looks at no other hour and at nothing before the series was first seen', () => {
    expect(isRecurrence(seriesWith({ 23: { tokens: 150_000 } }), NOW, 150_000, 20_000, cfg)).toBe(false);
    const young = seriesWith({ 24: { tokens: 90_000 } });
    young.firstHour = NOW - 12;
    expect(isRecurrence(young, NOW, 150_000, 20_000, cfg)).toBe(false);
  });
});
