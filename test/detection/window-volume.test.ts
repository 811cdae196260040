import { describe, expect, it } from 'vitest';
import { DAY_HOURS, HOUR, hourOf, replaySeries, rng, START, spikes } from './series-fixtures.ts';

const WEEK = 7 * DAY_HOURS;

/** A key used in sessions of two or three hours about every other day, 2M to 10M tokens an hour. */
function sessions(seed: number): (i: number) => number {
  const r = rng(seed);
  const busy = new Map<number, number>();
  for (let i = 0; i < 10 * WEEK; i++) {
    if (busy.has(i) || r() >= 1 / 40) continue;
    const length = 2 + Math.floor(2 * r());
    for (let k = 0; k < length; k++) busy.set(i + k, 2_000_000 + 8_000_000 * r());
  }
  return (i) => busy.get(i) ?? 0;
}

const lifecycle = (alerts: ReturnType<typeof replaySeries>['alerts'], from: number) =>
  alerts
    .filter((a) => a.type === 'spike' || a.type === 'resolved')
    .map((a) => `${a.type}@${hourOf(a) - from}`);

describe('detectSeriesHour: volume over half a day', () => {
  const start = 3 * WEEK + 2 * DAY_HOURS + 8;

  it('pages a leak each hour of which stays under the sessions of a key used in bursts, once, until it stops', () => {
    // 6M-9M every hour for two days, on a key whose sessions reach 10M an hour: no hour of it is past
    // the key's busiest, and its wide band takes each one in; half a day of it is past anything it did.
    const usual = sessions(9);
    const noise = rng(6);
    const leaking = (i: number) => i >= start && i < start + 48;
    const { alerts } = replaySeries(
      (i) => (leaking(i) ? 6_000_000 + 3_000_000 * noise() : usual(i)),
      start + 60,
    );
    const [spike, resolved, ...rest] = alerts.filter((a) => a.type === 'spike' || a.type === 'resolved');
    expect(rest).toEqual([]);
    expect(spike && hourOf(spike) - start).toBeLessThan(12);
    expect(resolved?.type === 'resolved' && hourOf(resolved) - start).toBeGreaterThanOrEqual(48);
    // The page tells of the half day it looked at: dated to the leak's first hour, with its tokens over
    // what the key uses on average (a few hundred thousand an hour), not one hour's.
    expect(spike && (spike.incidentStart - START) / HOUR).toBe(start);
    expect(spike?.excessTokensTotal).toBeGreaterThan(60_000_000);
    // The same weeks without the leak page no one.
    expect(spikes(replaySeries(usual, start + 60).alerts)).toEqual([]);
  });

  it('sets no bar by a leak paged before: a smaller one twelve days later still pages', () => {
    // A 20M-an-hour leak for half a day pages in its first hours; twelve days later, the two-day leak of
    // the test above pages as it did alone, though the first leak's half day was bigger than it.
    const usual = sessions(9);
    const noise = rng(6);
    const first = start - 12 * DAY_HOURS;
    const leaking = (i: number) => i >= start && i < start + 48;
    const tokens = (i: number) =>
      i >= first && i < first + 12 ? 20_000_000 : leaking(i) ? 6_000_000 + 3_000_000 * noise() : usual(i);
    const opened = spikes(replaySeries(tokens, start + 60).alerts).map((a) => hourOf(a) - start);
    expect(opened).toHaveLength(2);
    expect(opened[0]).toBeLessThan(-12 * DAY_HOURS + 3);
    expect(opened[1]).toBeGreaterThanOrEqual(0);
    expect(opened[1]).toBeLessThan(12);
  });

  it('stays silent on a weekly job of half a day, known from the weeks before', () => {
    // 1M an hour, and 4M for 12 hours every Saturday: each run is past every half day of the week before
    // it, but not past the runs of the weeks before that.
    const noise = rng(12);
    const level = (i: number) =>
      (i % WEEK >= 5 * DAY_HOURS && i % WEEK < 5 * DAY_HOURS + 12 ? 4 : 1) * 1_000_000;
    const { alerts } = replaySeries((i) => level(i) * (0.9 + 0.2 * noise()), 5 * WEEK);
    expect(spikes(alerts).filter((a) => hourOf(a) >= 2 * WEEK)).toEqual([]);
  });

  it('does not page again for the half day of an incident just closed', () => {
    // 3x for four hours, then 8x for eight, pages; back to normal for three hours closes it; then 2.2x
    // for a day, not enough to page by itself: the half day before it held the incident already told of.
    const noise = rng(14);
    const level = (i: number) => {
      const h = i - start;
      return h < 0 ? 1 : h < 4 ? 3 : h < 12 ? 8 : h >= 15 && h < 39 ? 2.2 : 1;
    };
    const { alerts } = replaySeries((i) => level(i) * 1_000_000 * (0.9 + 0.2 * noise()), start + 48);
    expect(lifecycle(alerts, start)).toEqual(['spike@1', 'resolved@14']);
  });
});
