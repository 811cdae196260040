import { describe, expect, it } from 'vitest';
import { expectation } from '../../functions/detection/baseline.ts';
import { businessHours, DAY_HOURS, replaySeries, rng, spikes } from './series-fixtures.ts';

const WEEK = 7 * DAY_HOURS;

describe("a series' weekend in its own time zone", () => {
  it.each([
    // Monday 08:00 in Tokyo is Sunday 23:00 UTC; Friday 17:00 in California is Saturday 01:00 UTC.
    ['Tokyo', 9, 8],
    ['California', -8, 4 * DAY_HOURS + 17],
  ])('learns a team in %s by its own weekdays, weekend edges included', (_city, offset, localHourOfWeek) => {
    const { state } = replaySeries(businessHours(1_000_000, 2, offset), 2 * WEEK);
    if (!state) throw new Error('no state');
    expect(state.weekendSettled).toBe(true);
    expect(state.weekendShift).not.toBe(0);
    const workingHour = 2 * WEEK + localHourOfWeek - offset;
    // The weekday level (about a million tokens), not the weekend's 150,000.
    expect(expectation(state, workingHour).tokens).toBeGreaterThan(600_000);
  });

  it('keeps UTC days for a key with no weekly pattern', () => {
    const r = rng(5);
    const { state } = replaySeries(() => 500_000 * (0.8 + 0.4 * r()), 2 * WEEK);
    expect(state?.weekendSettled).toBe(true);
    expect(state?.weekendShift).toBe(0);
  });

  it('stays silent on the Monday after a holiday Monday in Tokyo (a Sunday evening in UTC)', () => {
    const offset = 9;
    const base = businessHours(1_000_000, 3, offset);
    const localDay = (i: number) => Math.floor((i + offset) / DAY_HOURS);
    const holiday = 2 * 7 + 7; // the third local Monday (day 21 from START's local Monday)
    const { alerts } = replaySeries(
      (i) => (localDay(i) === holiday ? base(i - DAY_HOURS * 2) : base(i)),
      4 * WEEK,
    );
    expect(spikes(alerts)).toEqual([]);
  });
});
