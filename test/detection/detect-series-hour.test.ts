import { describe, expect, it } from 'vitest';
import type { Alert } from '../../functions/core/alert.ts';
import { DORMANT_HOURS } from '../../functions/detection/assess-hour.ts';
import {
  businessHours,
  ciKey,
  DAY_HOURS,
  HOUR,
  hourOf,
  openings,
  replaySeries,
  rng,
  START,
  spikes,
} from './series-fixtures.ts';

const WEEK = 7 * DAY_HOURS;
/** A key at 1M an hour, 1.5x up or down on alternate days. */
const swingingDays = (i: number) => 1_000_000 * (Math.floor(i / DAY_HOURS) % 2 ? 1.5 : 1 / 1.5);

describe('detectSeriesHour: spikes', () => {
  it('catches a clear spike in its first hour, with its figures', () => {
    const base = businessHours(1_000_000);
    const spikeAt = 2 * WEEK + 2 * DAY_HOURS + 11;
    const { alerts } = replaySeries((i) => (i === spikeAt ? 9_000_000 : base(i)), spikeAt + 10);
    const opened = spikes(alerts);
    expect(opened).toHaveLength(1);
    const [spike] = opened;
    expect(spike && hourOf(spike)).toBe(spikeAt);
    expect(spike?.observed).toBe(9_000_000);
    expect(spike?.expected).toBeGreaterThan(700_000);
    expect(spike?.expected).toBeLessThan(1_400_000);
    // ~8M tokens over at $4.375 per million: about $35 over, high.
    expect(spike?.severity).toBe('high');
    expect(spike?.recentTokens).toHaveLength(48);
    expect(spike?.recentTokens.at(-1)).toBeGreaterThan(8_000_000);
  });

  it('stays silent when a tiny key goes from 10 to 100 tokens an hour', () => {
    const { alerts } = replaySeries((i) => (i < 2 * WEEK ? 10 : 100), 3 * WEEK);
    expect(openings(alerts)).toEqual([]);
  });

  it("stays silent when a few large prompts make a small key's hour; as many tokens from many calls page", () => {
    // About 4,000 tokens an hour in two calls, then an hour of 60,000 tokens: in four calls (15,000 tokens
    // each, as one large document would), or in thirty of the usual size (a loop).
    const spikeAt = 2 * WEEK + 2 * DAY_HOURS + 11;
    const opened = (calls: number) => {
      const r = rng(5);
      const level = (i: number) => (i === spikeAt ? 60_000 : 4_000 * (0.8 + 0.4 * r()));
      const requests = (i: number, tokens: number) => (i === spikeAt ? calls : tokens / 2000);
      return spikes(replaySeries(level, spikeAt + 6, {}, undefined, undefined, requests).alerts);
    };
    expect(opened(4)).toEqual([]);
    expect(opened(30).map(hourOf)).toEqual([spikeAt]);
  });

  it('stays silent for a nightly batch job after warm-up', () => {
    const r = rng(3);
    const { alerts } = replaySeries(
      (i) => (i % 24 === 2 ? 6_000_000 : 200_000) * (0.9 + 0.2 * r()),
      4 * WEEK,
    );
    expect(spikes(alerts)).toEqual([]);
  });

  it('stays silent for a nightly job running three hours late; a loop in its place pages', () => {
    // 200k tokens an hour and a 6M job at 02:00; in week 4 one night's job runs at 05:00.
    const lateAt = 3 * WEEK + 2 * DAY_HOURS + 5;
    const nightly = (late: number) => {
      const r = rng(3);
      return (i: number) => {
        const job = i === lateAt - 3 ? 0 : i === lateAt ? late : i % DAY_HOURS === 2 ? 6_000_000 : 0;
        return (200_000 + job) * (0.9 + 0.2 * r());
      };
    };
    expect(spikes(replaySeries(nightly(6_000_000), 4 * WEEK).alerts)).toEqual([]);
    // Five times what went missing is no late job.
    expect(spikes(replaySeries(nightly(30_000_000), 4 * WEEK).alerts).map(hourOf)).toEqual([lateAt]);
  });

  it('stays silent for a weekly job bigger than last week, whose last run was judged just under the bar', () => {
    // A key at 1M an hour, 1.5x up or down on alternate days, with a two-hour job on Wednesdays from
    // 14:00: 2.5M in week 3 (within its swings), 5M in week 4 (elevated two hours in a row, as a step).
    const jobWeek3 = 3 * WEEK + 2 * DAY_HOURS + 14;
    const jobWeek4 = jobWeek3 + WEEK;
    const job = (i: number, start: number) => i >= start && i < start + 2;
    const replay = (week3: number) => {
      const level = (i: number) =>
        job(i, jobWeek3) ? week3 : job(i, jobWeek4) ? 5_000_000 : swingingDays(i);
      return spikes(replaySeries(level, jobWeek4 + 6).alerts).map((a) => hourOf(a) - jobWeek4);
    };
    expect(replay(2_500_000)).toEqual([]);
    // Without last week's run, the same two hours page.
    expect(replay(1_000_000)).toEqual([1]);
  });

  it('pages a weekly job that runs all weekend once, not every weekend', () => {
    // 5M an hour from about Saturday 00:00 for 60 hours on a key at about 1M: the first run pages and ends
    // as back to normal after two days and more; the next ones begin when it began, a week on, give or
    // take the hours a job runs early or late.
    const r = rng(3);
    const startShift = [0, 4, 3, 5, 4];
    const weekend = (i: number) => {
      const start = 5 * DAY_HOURS + (startShift[Math.floor(i / WEEK)] ?? 0);
      return i % WEEK >= start && i % WEEK < start + 60;
    };
    const level = (i: number) => (weekend(i) ? 5 : 1) * 1_000_000 * (0.9 + 0.2 * r());
    expect(spikes(replaySeries(level, 5 * WEEK).alerts).map(hourOf)).toEqual([5 * DAY_HOURS]);
  });

  it('stays silent when summer time ends and the working day moves an hour later in UTC', () => {
    // New York: UTC-4 for three weeks, then UTC-5 from a Sunday on.
    const summer = businessHours(2_000_000, 9, -4);
    const winter = businessHours(2_000_000, 9, -5);
    const change = 3 * WEEK - DAY_HOURS;
    const { alerts } = replaySeries((i) => (i < change ? summer(i) : winter(i)), 4 * WEEK);
    expect(spikes(alerts)).toEqual([]);
  });

  it("takes a Monday's first hour after the clocks change for no burst: a loop that week still pages", () => {
    // Weekdays (New York) busy by day and well above zero at night, weekends nearly idle: the hour after
    // local midnight on Monday jumps 40x. Two weeks at UTC-5, then UTC-4 from a Sunday on, so that jump
    // comes an hour early in UTC, in what the series knows as its weekend. A 6x loop follows on Wednesday.
    const noise = rng(17);
    const office = (offset: number) => (i: number) => {
      const local = i + offset + 7 * DAY_HOURS;
      const hourOfDay = local % DAY_HOURS;
      const weekday = Math.floor(local / DAY_HOURS) % 7 < 5;
      const level = !weekday ? 10_000 : hourOfDay >= 8 && hourOfDay < 18 ? 2_000_000 : 400_000;
      return level * (0.9 + 0.2 * noise());
    };
    const winter = office(-5);
    const summer = office(-4);
    const change = 2 * WEEK + 6 * DAY_HOURS;
    const loopAt = 3 * WEEK + 2 * DAY_HOURS + 15;
    const series = (i: number) => (i === loopAt ? 6 : 1) * (i < change ? winter(i) : summer(i));
    expect(spikes(replaySeries(series, loopAt + 3).alerts).map(hourOf)).toEqual([loopAt]);
  });

  it('takes a daily job that summer time moved an hour for no burst: a loop the next week still pages', () => {
    // ~1M tokens an hour with a 20M job at 12:00 UTC every day; from week 3 the job runs at 13:00 UTC.
    // Its first day there is a 20x hour; the next day it is back at 13:00, so it is the job, not a burst.
    const r = rng(29);
    const moveAt = 3 * WEEK;
    const loopAt = 4 * WEEK + 3;
    const series = (i: number) => {
      const jobHour = i < moveAt ? 12 : 13;
      const level = i % DAY_HOURS === jobHour ? 20_000_000 : 1_000_000;
      return (i === loopAt ? 6 : 1) * level * (0.95 + 0.1 * r());
    };
    expect(spikes(replaySeries(series, loopAt + 3).alerts).map(hourOf)).toEqual([loopAt]);
  });

  it('stays silent through a weekend dip and the Monday after', () => {
    const { alerts } = replaySeries(businessHours(2_000_000, 5), 5 * WEEK);
    expect(spikes(alerts)).toEqual([]);
  });

  it("stays silent for a sparse key's usual bursts at random hours", () => {
    const r = rng(11);
    const { alerts } = replaySeries(() => (r() < 0.08 ? 400_000 + 600_000 * r() : 0), 5 * WEEK);
    expect(spikes(alerts)).toEqual([]);
  });

  it('stays silent while a key grows steadily (5% a day)', () => {
    const base = businessHours(1_000_000, 7);
    const { alerts } = replaySeries((i) => base(i) * 1.05 ** (i / 24), 5 * WEEK);
    expect(spikes(alerts)).toEqual([]);
  });

  it('alerts a new key with material usage once', () => {
    const r = rng(13);
    const { alerts } = replaySeries((i) => (i < 100 ? 0 : 3_000_000 * (0.9 + 0.2 * r())), 300);
    const opened = openings(alerts);
    expect(opened.map((a) => a.type)).toEqual(['new_key']);
    expect(opened[0] && hourOf(opened[0])).toBe(100);
    expect(opened[0]?.expected).toBe(0);
  });

  it('does not alert a new key with little usage', () => {
    const { alerts } = replaySeries((i) => (i < 100 ? 0 : 20_000), 300);
    expect(openings(alerts)).toEqual([]);
  });

  it('does not call a key new once it has been in use a few hours: one that starts small and grows', () => {
    // A nightly job on a new key: 150,000 tokens its first night, 400,000 the next.
    const { alerts } = replaySeries((i) => (i % 24 < 3 ? (i < 24 ? 150_000 : 400_000) : 0), 60);
    expect(openings(alerts)).toEqual([]);
  });

  it('treats a dormant key waking up with material usage as a spike', () => {
    const wake = 3 * WEEK + DORMANT_HOURS + 5;
    const { alerts } = replaySeries((i) => (i < 3 * WEEK || i >= wake ? 1_000_000 : 0), wake + 3);
    const opened = spikes(alerts);
    expect(opened).toHaveLength(1);
    expect(opened[0] && hourOf(opened[0])).toBe(wake);
  });

  it('learns no relative alerts before warm-up', () => {
    const { alerts } = replaySeries((i) => (i === 30 ? 20_000_000 : 1_000_000), 60);
    expect(spikes(alerts)).toEqual([]);
  });
});

describe('detectSeriesHour: incident lifecycle', () => {
  const base = () => {
    const r = rng(17);
    return () => 1_000_000 * (0.9 + 0.2 * r());
  };
  const start = 2 * WEEK;

  it('reminds every repeatEveryHours, escalates by severity, resolves after recoveryHours', () => {
    const noise = base();
    // 12 hours at 5M ($17 over: medium), then 4 hours at 30M (critical), then back.
    const level = (i: number) =>
      i >= start && i < start + 12 ? 5_000_000 : i >= start + 12 && i < start + 16 ? 30_000_000 : noise();
    const { alerts, state } = replaySeries(level, start + 30, { notifications: { repeatEveryHours: 6 } });
    const summary = alerts
      .filter((a) => a.type !== 'new_key')
      .map((a) => `${a.type}@${hourOf(a) - start}:${a.severity}`);
    expect(summary).toEqual([
      'spike@0:medium',
      'reminder@6:medium',
      'reminder@12:critical',
      'resolved@18:critical',
    ]);
    // The reminder at hour 12 pages because the incident rose to critical, and says so.
    const reminders = alerts.filter((a) => a.type === 'reminder');
    expect(reminders.map((a) => a.escalated === true)).toEqual([false, true]);
    const resolved = alerts.at(-1);
    expect(resolved?.type).toBe('resolved');
    expect(resolved?.durationHours).toBe(16);
    expect(resolved?.newNormal).toBeUndefined();
    // Excess: 12 x ~4M + 4 x ~29M tokens.
    expect(resolved?.excessTokensTotal).toBeGreaterThan(150_000_000);
    expect(resolved?.excessTokensTotal).toBeLessThan(175_000_000);
    expect(resolved?.excessUsdTotal).toBeGreaterThan(600);
    expect(resolved?.incidentStart).toBe(spikes(alerts)[0]?.incidentStart);
    expect(state?.incident).toBeNull();
  });

  it('closes a step that lasts for days as its new normal after two days, and one that ends as back to normal', () => {
    const closing = (hours: number) => {
      const noise = base();
      const level = (i: number) => (i >= start && i < start + hours ? 3 : 1) * noise();
      const lifecycle = replaySeries(level, start + 5 * DAY_HOURS).alerts.filter(
        (a) => a.type === 'spike' || a.type === 'resolved',
      );
      expect(lifecycle.map((a) => a.type)).toEqual(['spike', 'resolved']);
      return lifecycle[1] as Alert;
    };
    const lasting = closing(5 * DAY_HOURS);
    expect(hourOf(lasting) - start).toBeGreaterThanOrEqual(48);
    expect(lasting.newNormal).toBe(true);
    // The key is still at its new level when the incident closes.
    expect(lasting.observed).toBeGreaterThan(2 * lasting.expected);
    // Ended after 50 hours: usage came back down, whatever the incident's length.
    const ended = closing(50);
    expect(hourOf(ended) - start).toBeGreaterThanOrEqual(50);
    expect(ended.newNormal).toBeUndefined();
  });

  it('closes the incident without a notice when recoveryNotices is false', () => {
    const noise = base();
    const level = (i: number) => (i >= start && i < start + 3 ? 8_000_000 : noise());
    const { alerts, state } = replaySeries(level, start + 12, { notifications: { recoveryNotices: false } });
    expect(alerts.filter((a) => a.type !== 'new_key').map((a) => a.type)).toEqual(['spike']);
    expect(state?.incident).toBeNull();
  });

  it('does not learn from an incident: a second spike after it resolves is caught again', () => {
    const noise = base();
    // The second spike is not at the same hour of day as the first one (that would be a recurrence).
    const level = (i: number) =>
      (i >= start && i < start + 20) || (i >= start + 50 && i < start + 52) ? 8_000_000 : noise();
    const { alerts } = replaySeries(level, start + 60);
    expect(spikes(alerts).map((a) => hourOf(a) - start)).toEqual([0, 50]);
  });

  it("pages a leak back a few hours after it ran for days: the hours of an incident over are no job's", () => {
    const noise = base();
    // 8M an hour for 60 hours (past the two-day freeze), 1M for six hours, then 8M again: each hour of it
    // was as high the day before, as a nightly job's would be, but in a leak that ran all day. The first
    // incident closes in the third hour back (at 8M its last hours were still minRatio above the level
    // being learned again).
    const resumed = start + 66;
    const leaking = (i: number) => (i >= start && i < start + 60) || (i >= resumed && i < resumed + 12);
    const { alerts } = replaySeries((i) => (leaking(i) ? 8_000_000 : noise()), resumed + 16);
    const lifecycle = alerts.filter((a) => a.type === 'spike' || a.type === 'resolved');
    expect(lifecycle.map((a) => `${a.type}@${hourOf(a) - start}`)).toEqual([
      'spike@0',
      'resolved@62',
      'spike@66',
      'resolved@80',
    ]);
    expect(lifecycle[1]?.newNormal).toBeUndefined();
  });
});

describe('detectSeriesHour: settings', () => {
  const noise = businessHours(1_000_000, 19);
  const spikeAt = 2 * WEEK + 3 * DAY_HOURS + 12;
  // Just past the default single-hour ratio (4.5x), so each stricter setting below is what silences it.
  const series = (i: number) => (i === spikeAt ? 4_800_000 : noise(i));

  it('honours per-key over per-project over default thresholds', () => {
    const strictProject = { overrides: { projects: { proj_a: { minRatio: 10 } } } };
    expect(spikes(replaySeries(series, spikeAt + 2).alerts)).toHaveLength(1);
    expect(spikes(replaySeries(series, spikeAt + 2, strictProject).alerts)).toHaveLength(0);
    const keyBack = { overrides: { ...strictProject.overrides, apiKeys: { key_a: { minRatio: 2 } } } };
    expect(spikes(replaySeries(series, spikeAt + 2, keyBack).alerts)).toHaveLength(1);
  });

  it('honours sensitivity, the single-hour ratio and the absolute minimums', () => {
    expect(spikes(replaySeries(series, spikeAt + 2, { detection: { sensitivity: 20 } }).alerts)).toHaveLength(
      0,
    );
    expect(
      spikes(replaySeries(series, spikeAt + 2, { detection: { singleHourRatio: 8 } }).alerts),
    ).toHaveLength(0);
    expect(
      spikes(replaySeries(series, spikeAt + 2, { detection: { minExcessTokens: 5_000_000 } }).alerts),
    ).toHaveLength(0);
    expect(
      spikes(replaySeries(series, spikeAt + 2, { detection: { minExcessUsd: 50 } }).alerts),
    ).toHaveLength(0);
  });
});

describe('detectSeriesHour: steps, ramps, sparse keys and cheap models', () => {
  const steady = (seed: number) => {
    const r = rng(seed);
    return () => 1_000_000 * Math.exp(0.15 * (r() + r() + r() - 1.5));
  };
  const start = 2 * WEEK + 3 * DAY_HOURS + 10;

  it('catches a sustained 3x step in its second hour and does not learn it as normal', () => {
    // Under singleHourRatio one hour alone is no page; the second confirms a level shift.
    const step = (noise: () => number) => (i: number) => (i >= start ? 3 : 1) * noise();
    const { alerts, state } = replaySeries(step(steady(23)), start + 24);
    expect(spikes(alerts).map((a) => hourOf(a) - start)).toEqual([1]);
    // The incident began with the step's first hour: dated from it, with its excess.
    const [spike] = spikes(alerts);
    expect(spike && (spike.incidentStart - spike.bucketStart) / 3600).toBe(-1);
    expect(spike?.excessTokensTotal).toBeGreaterThan(1.5 * ((spike?.observed ?? 0) - (spike?.expected ?? 0)));
    expect(state?.incident).not.toBeNull();
    const eager = replaySeries(step(steady(23)), start + 24, { detection: { singleHourRatio: 2.5 } });
    expect(spikes(eager.alerts).map((a) => hourOf(a) - start)).toEqual([0]);
  });

  it('catches a ramp too gentle for one hour by its second elevated hour (level shift)', () => {
    // 2.1x, then 3x: the first under minRatio, the second under singleHourRatio, together a shift.
    const ramp = (second: number) => {
      const noise = steady(29);
      return (i: number) => (i === start ? 2.1 : i > start ? second : 1) * noise();
    };
    const opened = (second: number) => spikes(replaySeries(ramp(second), start + 12).alerts);
    expect(opened(3).map((a) => hourOf(a) - start)).toEqual([1]);
    // Two hours that stay under minRatio together are no shift: at 2.1x it pages once it has lasted ten
    // hours, as a long run.
    expect(opened(2.1).map((a) => hourOf(a) - start)).toEqual([9]);
  });

  it('pages a ramp that climbs 18% an hour on a noisy key: its own hours do not widen its band', () => {
    // From 1.5x, on a key swinging about +-50% an hour. Learned as ordinary hours, each widened the band
    // by 30% and the ramp reached 30x unpaged on three of these eight keys.
    const openedAt = (seed: number) => {
      const r = rng(seed);
      const noise = () => Math.exp(0.5 * (r() + r() + r() - 1.5));
      const level = (i: number) =>
        1_000_000 * (i >= start ? Math.min(30, 1.5 * 1.18 ** (i - start)) : 1) * noise();
      return spikes(replaySeries(level, start + 36).alerts).map((a) => hourOf(a) - start)[0];
    };
    // Each key pages it before it reaches 15x (hour 14).
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) expect(openedAt(seed)).toBeLessThanOrEqual(13);
  });

  it('takes a two-hour run that falls to less than half in its second hour for a burst, not a level shift', () => {
    // 3.8x (under singleHourRatio alone), then 1.85x: elevated both hours, but falling away. The same first
    // hour followed by one that holds at 3x is a step, paged in its second hour.
    const noise = steady(37);
    const opened = (second: number) => {
      const level = (i: number) => (i === start ? 3_800_000 : i === start + 1 ? second : noise());
      return spikes(replaySeries(level, start + 6).alerts).map((a) => hourOf(a) - start);
    };
    expect(opened(1_850_000)).toEqual([]);
    expect(opened(3_000_000)).toEqual([1]);
  });

  it("asks a level shift's second hour to stand well off a swinging key's baseline", () => {
    // A key at 1M an hour, 1.5x up or down on alternate days. Two hours at 4M are elevated (half-way to
    // every bar) but within 0.7 of the distance its swings allow: silent. At 5M they page in the second;
    // at 4M, a third hour in a row pages.
    const at = 3 * WEEK + 2 * DAY_HOURS + 14;
    const opened = (tokens: number, hours: number) => {
      const level = (i: number) => (i >= at && i < at + hours ? tokens : swingingDays(i));
      return spikes(replaySeries(level, at + 6).alerts).map((a) => hourOf(a) - at);
    };
    expect(opened(4_000_000, 2)).toEqual([]);
    expect(opened(5_000_000, 2)).toEqual([1]);
    expect(opened(4_000_000, 3)).toEqual([2]);
  });

  it('pages a step in its third hour when its first fell just short of elevated and was learned', () => {
    // Thousands of tokens an hour of a day key with a nightly job (the simulator's seed 2), from Monday
    // 00:00 to a step (about 3x) at 11:00 on the second Tuesday. Its first hour is 2.9x (a little short of
    // elevated where its band is wide) and is learned; its second stands at 3.5x, no longer far above the
    // hour before; its third, 3.2x, is short of 0.7 of the distance. Three hours in a row, they page in
    // the third (the run rule's first hour needs only a quarter of the way), not the fifth, as an incident
    // begun with the first.
    const dayKey = [
      206, 145, 222, 781, 1152, 2071, 1917, 1778, 2154, 2429, 1862, 1510, 1276, 883, 139, 191, 214, 196, 167,
      7140, 5465, 5628, 6747, 186, 250, 262, 203, 727, 1203, 1982, 2038, 2643, 2538, 2419, 1652, 2014, 1169,
      759, 194, 237, 182, 170, 182, 5589, 6212, 8001, 7520, 271, 177, 209, 262, 803, 1130, 2011, 2237, 2707,
      2445, 2423, 2180, 2105, 1400, 1081, 191, 213, 202, 204, 232, 7009, 4783, 5118, 5544, 204, 266, 195, 234,
      777, 1334, 1487, 2030, 1846, 2727, 2421, 2064, 1728, 1075, 832, 170, 172, 163, 201, 203, 8899, 7858,
      9698, 6979, 214, 169, 188, 286, 955, 1088, 1794, 2366, 2515, 2544, 2426, 2420, 1940, 1049, 831, 215,
      232, 294, 194, 204, 7804, 7607, 8597, 7121, 30, 74, 33, 75, 168, 256, 375, 587, 519, 565, 609, 545, 386,
      346, 193, 52, 25, 70, 35, 42, 6217, 5911, 5686, 5843, 19, 42, 47, 47, 168, 376, 567, 509, 591, 629, 772,
      640, 455, 274, 156, 61, 50, 33, 42, 19, 5282, 7879, 8535, 6761, 182, 134, 182, 147, 758, 1039, 1567,
      1949, 1887, 2110, 2005, 1878, 1685, 1041, 577, 191, 121, 207, 170, 199, 6909, 6843, 8727, 8007, 155,
      229, 176, 175, 720, 1095, 1299, 1589, 2324, 2490, 1782, 1779, 5628, 4442, 2690, 701, 584, 699, 897,
    ];
    const stepAt = 203;
    const { alerts } = replaySeries(
      (i) => (dayKey[i] ?? 0) * 1000,
      dayKey.length,
      {},
      undefined,
      'gpt-4o-mini',
      (_i, tokens) => tokens / 3400,
    );
    const opened = spikes(alerts);
    expect(opened.map((a) => hourOf(a) - stepAt)).toEqual([2]);
    expect(opened[0]?.incidentStart).toBe(START + stepAt * HOUR);
  });

  it('takes an hour of a weekly job for no first hour of a level shift: an overrun pages once it lasts', () => {
    // A key at 1M an hour with a one-hour job on Wednesdays at 14:00 (3M). In week 4 the job runs over,
    // at 3M, for `overrun` more hours: the recurring hour and one more are no shift, two more are.
    const noise = steady(31);
    const jobAt = (week: number) => week * WEEK + 2 * DAY_HOURS + 14;
    const replay = (overrun: number) => {
      const job = (i: number) =>
        [0, 1, 2].some((w) => i === jobAt(w)) || (i >= jobAt(3) && i <= jobAt(3) + overrun);
      const level = (i: number) => (job(i) ? 3 : 1) * noise();
      return spikes(replaySeries(level, jobAt(3) + 8).alerts).map((a) => hourOf(a) - jobAt(3));
    };
    expect(replay(1)).toEqual([]);
    expect(replay(2)).toEqual([2]);
  });

  it('pages a jump in tokens onto a pricier model at once, not its usual tokens on it', () => {
    // A key on gpt-4o-mini; in one hour its traffic runs on gpt-4o (about 16x the price per token).
    const opened = (times: number, model: string) =>
      spikes(
        replaySeries(
          (i) => (i === start ? times : 1) * 200_000 * (0.9 + 0.2 * Math.sin(i)),
          start + 3,
          {},
          undefined,
          (i) => (i === start ? model : 'gpt-4o-mini'),
        ).alerts,
      ).map((a) => hourOf(a) - start);
    // 3x the tokens: under the single-hour ratio on its own model, past it in cost on a pricier one.
    expect(opened(3, 'gpt-4o-mini')).toEqual([]);
    expect(opened(3, 'gpt-4o')).toEqual([0]);
    // Twice the tokens on the pricier model: a mix that varies, not a leak.
    expect(opened(2, 'gpt-4o')).toEqual([]);
  });

  it('catches a material token spike on a cheap model (materiality is in tokens by default)', () => {
    const noise = steady(31);
    const level = (i: number) => (i === start ? 600_000 : (100_000 * noise()) / 1_000_000);
    const { alerts } = replaySeries(level, start + 3, {}, undefined, 'gpt-4o-mini');
    expect(spikes(alerts).map((a) => hourOf(a) - start)).toEqual([0]);
  });

  it('catches a token spike onto a cheaper model that costs less than a usual hour, unless USD is asked', () => {
    // A key at ~100k tokens an hour on gpt-4o; in one hour 800k on gpt-4o-mini (about 16x cheaper a
    // token): 8x the tokens at half the usual hour's cost.
    const noise = steady(31);
    const level = (i: number) => (i === start ? 800_000 : (100_000 * noise()) / 1_000_000);
    const model = (i: number) => (i === start ? 'gpt-4o-mini' : 'gpt-4o');
    const opened = (minExcessUsd: number) =>
      spikes(replaySeries(level, start + 3, { detection: { minExcessUsd } }, undefined, model).alerts);
    expect(opened(0).map((a) => hourOf(a) - start)).toEqual([0]);
    expect(opened(0)[0]?.usdObserved).toBeLessThan(opened(0)[0]?.usdExpected ?? 0);
    expect(opened(0.01)).toEqual([]);
  });

  it("alerts a sparse key's bursts at a higher level at most once a week", () => {
    const r = rng(37);
    // A key used about one hour in twelve, at ~30k tokens; from week 2 its bursts are ~600k.
    const level = (i: number) => (i % 12 === 5 && r() < 0.8 ? (i < 2 * WEEK ? 30_000 : 600_000) : 0);
    const opened = openings(replaySeries(level, 3 * WEEK).alerts);
    expect(opened.length).toBeLessThanOrEqual(1);
  });

  it('catches prompt bloat in its first hour: 5x tokens per request, total tokens 3x', () => {
    const noise = steady(47);
    // From `start` each request carries 5x its usual tokens while requests fall from ~500 to ~300 an
    // hour: total tokens triple, past minRatio but under the single-hour ratio (4.5x) alone.
    const r = rng(48);
    const requests = (i: number) => (i >= start ? 300 : 500) * (0.9 + 0.2 * r());
    const level = (i: number) => (i >= start ? 5 : 1) * 2000 * requests(i) * (noise() / 1_000_000);
    const requestsAt = (i: number, tokens: number) => tokens / (2000 * (i >= start ? 5 : 1));
    const { alerts } = replaySeries(level, start + 3, {}, undefined, undefined, requestsAt);
    expect(spikes(alerts).map((a) => hourOf(a) - start)).toEqual([0]);
    // The same hours on a key whose request size routinely swings 3x either way: no bloat, a level
    // shift confirmed by its second hour.
    const swing = rng(49);
    const wide = (i: number, tokens: number) =>
      tokens / (2000 * (i >= start ? 5 : 1) * Math.exp(Math.log(3) * (2 * swing() - 1)));
    const widely = replaySeries(level, start + 3, {}, undefined, undefined, wide).alerts;
    expect(spikes(widely).map((a) => hourOf(a) - start)).toEqual([1]);
  });

  it('takes 3.5x tokens per request at 3.5x tokens for a level shift, not bloat: it opens in its second hour', () => {
    const noise = steady(52);
    const r = rng(53);
    const requests = () => 500 * (0.9 + 0.2 * r());
    const level = (i: number) => (i >= start ? 3.5 : 1) * 2000 * requests() * (noise() / 1_000_000);
    const requestsAt = (i: number, tokens: number) => tokens / (2000 * (i >= start ? 3.5 : 1));
    const { alerts } = replaySeries(level, start + 3, {}, undefined, undefined, requestsAt);
    expect(spikes(alerts).map((a) => hourOf(a) - start)).toEqual([1]);
  });

  it('takes tokens per request several times the usual for no bloat while total tokens stay under minRatio', () => {
    // A job's larger requests on a night it runs long: 4x tokens per request, total tokens 2x.
    const noise = steady(50);
    const r = rng(51);
    const requests = (i: number) => (i === start ? 250 : 500) * (0.9 + 0.2 * r());
    const level = (i: number) => (i === start ? 4 : 1) * 2000 * requests(i) * (noise() / 1_000_000);
    const requestsAt = (i: number, tokens: number) => tokens / (2000 * (i === start ? 4 : 1));
    expect(spikes(replaySeries(level, start + 3, {}, undefined, undefined, requestsAt).alerts)).toEqual([]);
  });

  it('opens nothing relative for a key with only a few hours of use in its first week', () => {
    // Four hours of use, then one at 20x before a week has passed: too little evidence of its level.
    const used = new Set([30, 60, 90, 120]);
    const level = (i: number) => (used.has(i) ? 20_000 : i === 150 ? 400_000 : 0);
    expect(spikes(replaySeries(level, 160, { detection: { warmupHours: 24 } }).alerts)).toEqual([]);
  });

  it('pages a leak on a key with only a few hours of use once the leak has run a few hours', () => {
    // Two hours of use (28k, 92k), then 400k an hour from day 6 on: too little evidence of the key's
    // level for its first hours to page, but hours of use count while they are not learned, so the
    // key is not kept young (and silent) for as long as the leak runs.
    const leakAt = 6 * DAY_HOURS;
    const level = (i: number) => (i === 30 ? 28_000 : i === 31 ? 92_000 : i >= leakAt ? 400_000 : 0);
    const opened = spikes(replaySeries(level, leakAt + 30).alerts).map((a) => hourOf(a) - leakAt);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toBeGreaterThan(0);
    expect(opened[0]).toBeLessThan(8);
  });

  it("pages a leak under the key's past peak once it has run ten hours", () => {
    // A key at about 1M an hour that burst to 25M in the week read at the first run: a night leak at 6x
    // tops none of its bursts, hour by hour or as a level shift, yet it must not run unpaged until it
    // passes for a recurrence.
    const r = rng(8);
    const burstAt = WEEK + 3 * DAY_HOURS + 15;
    const leakAt = 2 * WEEK + 2 * DAY_HOURS + 22;
    const level = (i: number) =>
      i === burstAt ? 25_000_000 : (i >= leakAt ? 6 : 1) * 1_000_000 * (0.9 + 0.2 * r());
    const replay = replaySeries(level, leakAt + 36, {}, undefined, undefined, undefined, 2 * WEEK);
    const opened = spikes(replay.alerts);
    expect(opened.map((a) => hourOf(a) - leakAt)).toEqual([9]);
    // Dated from the leak's first hour, with the excess of all ten (about 5M an hour).
    const [spike] = opened;
    expect(spike && (spike.incidentStart - spike.bucketStart) / 3600).toBe(-9);
    expect(spike?.excessTokensTotal).toBeGreaterThan(10 * 4_400_000);
    expect(spike?.excessTokensTotal).toBeLessThan(10 * 5_600_000);
    const hourExcessUsd = spike ? spike.usdObserved - spike.usdExpected : 0;
    expect(spike?.excessUsdTotal).toBeGreaterThan(8 * hourExcessUsd);
    expect(spike?.excessUsdTotal).toBeLessThan(12 * hourExcessUsd);
  });

  // Weekdays 09:00-17:00 UTC at about 300k, never at night or at weekends.
  const dayKey = () => {
    const noise = rng(21);
    return (i: number) => {
      const hourOfDay = i % DAY_HOURS;
      const weekday = Math.floor(i / DAY_HOURS) % 7 < 5;
      return weekday && hourOfDay >= 9 && hourOfDay < 17 ? 300_000 * (0.85 + 0.3 * noise()) : 0;
    };
  };

  it('catches a key used only by day running through the night at about its day level', () => {
    // 400k an hour from 02:00 on a Wednesday: no more than the day level, but at hours never used.
    const day = dayKey();
    const leakAt = 2 * WEEK + 2 * DAY_HOURS + 2;
    const leaked = (i: number) => (i >= leakAt && i < leakAt + 6 ? 400_000 : day(i));
    expect(spikes(replaySeries(dayKey(), leakAt + 8).alerts)).toEqual([]);
    expect(spikes(replaySeries(leaked, leakAt + 8).alerts).map(hourOf)).toEqual([leakAt + 1]);
  });

  it("pages a busy key's night hour past its busiest day hour at once, one at its day level in its second hour", () => {
    // Used from 06:00 to midnight every day (three hours in four: it does not work in bursts), at night
    // a few thousand tokens every fourth day. A night hour is judged against the key's busiest hour: past
    // it is news at once, where a key that works in bursts would need minRatio times it.
    const r = rng(5);
    const evening = (i: number) => {
      if (i % DAY_HOURS >= 6) return 200_000 * (0.85 + 0.3 * r());
      return Math.floor(i / DAY_HOURS) % 4 === 0 ? 4_000 : 0;
    };
    const loopAt = 2 * WEEK + 2 * DAY_HOURS + 3;
    const night = (factor: number) => (i: number) =>
      i >= loopAt && i < loopAt + 3 ? factor * 230_000 : evening(i);
    expect(spikes(replaySeries(evening, loopAt + 4).alerts)).toEqual([]);
    expect(spikes(replaySeries(night(1.6), loopAt + 4).alerts).map(hourOf)).toEqual([loopAt]);
    expect(spikes(replaySeries(night(0.9), loopAt + 4).alerts).map(hourOf)).toEqual([loopAt + 1]);
  });

  it('pages a costly leak past anything a key of swinging sessions has done, the hour before its working day', () => {
    // Two sessions a weekday between 08:00 and 18:00, their sizes spread about 3x either way: so wide a band
    // that no hour is far off the key's level, nor far above the usual of the working hour after it. A leak
    // from 07:00 at 4x the key's busiest hour ever, hundreds of dollars an hour over normal, pages at once.
    const r = rng(22);
    const swing = () => 2 * (r() + r() + r() + r() - 2);
    const sessions = new Map<number, number>();
    for (let day = 0; day < 4 * 7; day++) {
      if (day % 7 >= 5) continue;
      for (let j = 0; j < 2; j++)
        sessions.set(day * DAY_HOURS + 8 + Math.floor(10 * r()), 10_000_000 * Math.exp(swing()));
    }
    const leakAt = 3 * WEEK + 2 * DAY_HOURS + 7;
    const usual = (i: number) => (i < leakAt ? (sessions.get(i) ?? 0) : 0);
    const busiest = Math.max(...[...sessions].filter(([i]) => i < leakAt).map(([, tokens]) => tokens));
    const leaking = (i: number) => (i >= leakAt && i < leakAt + 3 ? 4 * busiest : usual(i));
    expect(spikes(replaySeries(usual, leakAt + 4).alerts)).toEqual([]);
    expect(spikes(replaySeries(leaking, leakAt + 4).alerts).map(hourOf)).toEqual([leakAt]);
  });

  it("pages a costly loop at three times a key's busiest hour, however far its sessions have run past their hours' baselines", () => {
    // A session at 21:00 every day and one at a random hour, their sizes spread about 4x either way: some
    // land in hours the key seldom uses, far past those hours' small baselines, and teach it bursts of
    // many times its baseline. A loop at 21:00 at 3x anything the key has done, costing tens of dollars
    // over normal, is past its bursts all the same.
    const r = rng(55);
    const sessions = new Map<number, number>();
    for (let day = 0; day < 4 * 7; day++) {
      for (const hour of [21, Math.floor(24 * r())]) {
        sessions.set(day * DAY_HOURS + hour, 400_000 * Math.exp(2.6 * (r() + r() + r() - 1.5)));
      }
    }
    const loopAt = 3 * WEEK + 2 * DAY_HOURS + 21;
    const usual = (i: number) => (i < loopAt ? (sessions.get(i) ?? 0) : 0);
    const busiest = Math.max(...[...sessions].filter(([i]) => i < loopAt).map(([, tokens]) => tokens));
    const looping = (i: number) => (i === loopAt ? 3 * busiest : usual(i));
    expect(spikes(replaySeries(usual, loopAt + 2).alerts)).toEqual([]);
    expect(spikes(replaySeries(looping, loopAt + 2).alerts).map(hourOf)).toEqual([loopAt]);
  });

  it('judges a one-hour spike of a key with empty nights at its hour, not against the week peak', () => {
    // 2.6x the 11:00 level: past minRatio above the hour, short of minRatio above the week's busiest hour.
    const day = dayKey();
    const spikeAt = 2 * WEEK + 2 * DAY_HOURS + 11;
    const spiked = (i: number) => (i === spikeAt ? 2.6 * 300_000 : day(i));
    const oneHourAtMinRatio = { detection: { singleHourRatio: 2.5 } };
    expect(spikes(replaySeries(spiked, spikeAt + 4, oneHourAtMinRatio).alerts).map(hourOf)).toEqual([
      spikeAt,
    ]);
  });

  it("catches a key used now and then running through the night at three times its week's peak", () => {
    // One office hour every fourth day at about 20k: too few hours of use to know their spread (it leans
    // on a wide prior), so 5x its level is under `sensitivity`. A night hour at 3.2x anything of the last
    // week is far enough all the same.
    const r = rng(2);
    const usedHour = Array.from({ length: 28 }, (_, day) => (day % 4 === 0 ? 9 + Math.floor(8 * r()) : -1));
    const size = Array.from({ length: 28 }, () => 20_000 * Math.exp(0.3 * (r() + r() - 1)));
    const quiet = (i: number) => {
      const day = Math.floor(i / DAY_HOURS);
      return i % DAY_HOURS === usedHour[day] ? (size[day] ?? 0) : 0;
    };
    const leakAt = 3 * WEEK + 2;
    let weekPeak = 0;
    for (let i = leakAt - WEEK; i < leakAt; i++) weekPeak = Math.max(weekPeak, quiet(i));
    const leaking = (factor: number) => (i: number) =>
      i >= leakAt && i < leakAt + 8 ? factor * weekPeak : quiet(i);
    expect(spikes(replaySeries(leaking(3.2), leakAt + 12).alerts).map(hourOf)).toEqual([leakAt]);
    // At 2x the week's peak the night hour is within what the key has done: no page.
    expect(spikes(replaySeries(leaking(2), leakAt + 1).alerts)).toEqual([]);
  });

  it('judges a key used a few hours in two weeks against its last week peak', () => {
    // Five hours of use at 20k in two weeks: an hour at 20x is news, one at 2x is not.
    const used = new Set([30, 100, 170, 240, 300]);
    const twice = (i: number) => (used.has(i) ? 20_000 : i === 2 * WEEK ? 40_000 + 50_000 : 0);
    expect(spikes(replaySeries(twice, 2 * WEEK + 3).alerts)).toEqual([]);
    const level = (i: number) => (used.has(i) ? 20_000 : i === 2 * WEEK ? 400_000 : 0);
    expect(spikes(replaySeries(level, 2 * WEEK + 3).alerts).map(hourOf)).toEqual([2 * WEEK]);
  });
});

describe('detectSeriesHour: calibrated to the series', () => {
  // A key at ~1M tokens an hour (+-2%) with one-hour bursts of 2.4x about five times a week: each under
  // minRatio, so none pages, but they are what this key does. One hour alone opens at minRatio here, so
  // the bursts are what stands between 2.58x and a page.
  const oneHourAtMinRatio = { detection: { singleHourRatio: 2.5 } };
  const noise = (r: () => number) => 0.98 + 0.04 * r();
  const bursty = (seed: number) => {
    const r = rng(seed);
    // Never two in a row: two elevated hours in a row are a level shift, judged as such.
    return (i: number) => 1_000_000 * noise(r) * (r() < 0.08 && i % 3 === 0 ? 2.4 : 1);
  };
  const at = 4 * WEEK + 2 * DAY_HOURS + 14;
  const afterFirstWeek = (alerts: Alert[]) =>
    spikes(alerts)
      .map(hourOf)
      .filter((h) => h >= WEEK);

  it('does not page on an hour barely past its usual bursts', () => {
    const level = bursty(41);
    const { alerts } = replaySeries((i) => (i === at ? 2_580_000 : level(i)), at + 3, oneHourAtMinRatio);
    expect(spikes(alerts)).toEqual([]);
    // The same hour on a key without bursts pages: 2.58x is past minRatio and far off a smooth band.
    const smooth = rng(41);
    const plainLevel = (i: number) => (i === at ? 2_580_000 : 1_000_000 * noise(smooth));
    const plain = replaySeries(plainLevel, at + 3, oneHourAtMinRatio);
    expect(spikes(plain.alerts).map(hourOf)).toEqual([at]);
  });

  it("does not take a daily job seen on a backfill's first day for a burst", () => {
    // ~1M tokens an hour with a 10x job at 10:00 every day, backfilled for a week, then a step to 3.2x
    // from 14:00 in week 3. On day 1 the job is 10x the level; a day later it proves to be daily.
    const r = rng(47);
    const stepAt = 2 * WEEK + 2 * DAY_HOURS + 14;
    const level = (i: number) =>
      (i % DAY_HOURS === 10 ? 10_000_000 : 1_000_000) * noise(r) * (i >= stepAt ? 3.2 : 1);
    const daily = replaySeries(level, stepAt + 4, oneHourAtMinRatio, undefined, undefined, undefined, WEEK);
    expect(daily.state?.burstPeak).toBeLessThan(0.5);
    expect(spikes(daily.alerts).map(hourOf)).toEqual([stepAt]);
    // A burst on day 1 that does not come back is learned a day later, as any other.
    const once = (i: number) => (i === 10 ? 10_000_000 : 1_000_000 * noise(r));
    const burst = replaySeries(once, 2 * DAY_HOURS, {}, undefined, undefined, undefined, WEEK);
    expect(burst.state?.burstPeak).toBeGreaterThan(1.5);
  });

  it('still catches a spike well past its usual bursts in its first hour', () => {
    const level = bursty(43);
    const { alerts } = replaySeries((i) => (i === at ? 8_000_000 : level(i)), at + 3);
    expect(spikes(alerts).map(hourOf)).toEqual([at]);
  });

  it("pages a CI key's run only past its busiest hour of the last week", () => {
    // A key used only by CI on gpt-4o: 30k tokens an hour of background in working hours on weekdays, idle
    // otherwise (a quarter of its hours), and a run or two of 1-3M tokens a working day at random hours
    // ($4-13 each), each Monday's first at 3M. Runs of every size in between set new highs of the burst
    // peak now and then, and cost too much to be learned as routine incidents; none tops the busiest hour
    // of the week before. Without the week's peak, seven of them page after the first week.
    const r = rng(61);
    const runs = new Map<number, number>();
    for (let day = 0; day < 28; day++) {
      if (day % 7 >= 5) continue;
      if (day % 7 === 0) runs.set(day * DAY_HOURS + 9, 3_000_000);
      for (let k = 1 + Math.floor(r() * 2); k > 0; k--) {
        runs.set(day * DAY_HOURS + 10 + Math.floor(r() * 8), 1_000_000 * 2.9 ** r());
      }
    }
    const at = 3 * WEEK + 2 * DAY_HOURS + 15;
    const withRun = (run: number) => ciKey(new Map([...runs, [at, run]]), 62);
    const routine = replaySeries(withRun(2_500_000), 4 * WEEK);
    expect(routine.state?.globalUse).toBeLessThan(0.3);
    expect(afterFirstWeek(routine.alerts)).toEqual([]);
    // A run of 8M tokens pages, on a model cheap enough ($2) that its cost is no reason to.
    const cheapAt = (i: number) => (i === at ? 'gpt-4o-mini' : 'gpt-4o');
    expect(afterFirstWeek(replaySeries(withRun(8_000_000), 4 * WEEK, {}, undefined, cheapAt).alerts)).toEqual(
      [at],
    );
  });

  it("pages a busy CI key's run only well past its busiest hour of the last week", () => {
    // A CI key on gpt-4o-mini with a trickle of 20k tokens every hour (so it counts as used in all of
    // them) and a run or two a working day of 1-2M tokens at 9:00, 12:00 or 15:00, 50-100x the trickle.
    // Now and then a week's biggest run tops the week before's by a little. A run at 12M pages.
    const r = rng(91);
    const runs = new Map<number, number>();
    for (let day = 0; day < 35; day++) {
      if (day % 7 >= 5) continue;
      for (let k = 1 + Math.floor(r() * 2); k > 0; k--) {
        runs.set(day * DAY_HOURS + 9 + 3 * Math.floor(r() * 3), 1_000_000 * 2 ** r());
      }
    }
    const at = 4 * WEEK + 2 * DAY_HOURS + 15;
    const ciKey = (run: number) => {
      const noise = rng(92);
      return (i: number) => 20_000 * (0.8 + 0.4 * noise()) + (i === at ? run : (runs.get(i) ?? 0));
    };
    const mini = () => 'gpt-4o-mini';
    const routine = replaySeries(ciKey(2_000_000), 5 * WEEK, {}, undefined, mini);
    expect(routine.state?.globalUse).toBeGreaterThan(0.9);
    expect(afterFirstWeek(routine.alerts)).toEqual([]);
    expect(afterFirstWeek(replaySeries(ciKey(12_000_000), 5 * WEEK, {}, undefined, mini).alerts)).toEqual([
      at,
    ]);
  });

  it("judges a sparse key's session against its bigger sessions before a quiet week", () => {
    // A key used for four one-hour sessions a week at random working hours, of 0.3-1.2M tokens each on
    // gpt-4o, has a quiet week of 100k sessions. Its next session, in the evening, at 2M is 20x the
    // busiest hour of the last week, twice its biggest before, and pages no one; one at 6M does.
    const r = rng(95);
    const at = 4 * WEEK + 3 * DAY_HOURS + 20;
    const sessions = new Map<number, number>();
    for (let week = 0; week < 5; week++) {
      for (let k = 0; k < 4; k++) {
        const hour = week * WEEK + Math.floor(r() * 5) * DAY_HOURS + 9 + Math.floor(r() * 9);
        sessions.set(hour, hour > at - WEEK ? 100_000 : 300_000 * 4 ** r());
      }
    }
    const sparseKey = (session: number) => (i: number) => (i === at ? session : (sessions.get(i) ?? 0));
    const usual = replaySeries(sparseKey(2_000_000), at + 3);
    expect(usual.state?.globalUse).toBeLessThan(0.05);
    expect(afterFirstWeek(usual.alerts)).toEqual([]);
    expect(afterFirstWeek(replaySeries(sparseKey(6_000_000), at + 3).alerts)).toEqual([at]);
  });

  /** One two-hour run a working day, starting at 10:00-15:00, of `size` tokens an hour: a CI key's runs. */
  const twoHourRuns = (days: number, seed: number, size: (day: number, r: () => number) => number) => {
    const r = rng(seed);
    const runs = new Map<number, number>();
    for (let day = 0; day < days; day++) {
      if (day % 7 >= 5) continue;
      const start = day * DAY_HOURS + 10 + Math.floor(r() * 6);
      const tokens = size(day, r);
      runs.set(start, tokens);
      runs.set(start + 1, tokens);
    }
    return runs;
  };

  it("judges a CI key's two-hour run against its busiest hour of the weeks before, not only last week's runs", () => {
    // A key used only by CI on gpt-4o: 30k tokens an hour of background in working hours on weekdays, and
    // one two-hour run a working day at a random hour, of 0.3-1.2M tokens an hour. The fourth week's runs
    // happen to be small, so the fifth week's Monday run tops the busiest two hours of the last week; it is
    // under twice the key's busiest ordinary hour of the weeks before, and pages no one. A run of 2M an hour
    // that Wednesday does.
    const runs = twoHourRuns(35, 102, (_day, r) => 300_000 * 4 ** r());
    const at = 4 * WEEK + 2 * DAY_HOURS + 11;
    const fromWeek2 = (alerts: Alert[]) =>
      spikes(alerts)
        .map(hourOf)
        .filter((h) => h >= 2 * WEEK);
    const routine = replaySeries(ciKey(runs, 103), 5 * WEEK);
    expect(routine.state?.globalUse).toBeLessThan(0.3);
    expect(fromWeek2(routine.alerts)).toEqual([]);
    const loop = new Map([...runs, [at, 2_000_000], [at + 1, 2_000_000]]);
    expect(fromWeek2(replaySeries(ciKey(loop, 103), 5 * WEEK).alerts)).toEqual([at]);
  });

  it("judges a bursty key's two-hour run against its busiest two hours of the last week", () => {
    // A key used only by CI: 30k tokens an hour of background in working hours on weekdays, and one run a
    // working day of two hours at 1-1.45M tokens each, at a random hour; Monday's at 1.5M. Each run tops
    // the key's busiest single hour of the week often enough to page as a level shift, never its busiest
    // two hours.
    const runs = twoHourRuns(28, 81, (day, r) => (day % 7 === 0 ? 1_500_000 : 1_000_000 * (1 + 0.45 * r())));
    expect(afterFirstWeek(replaySeries(ciKey(runs, 82), 4 * WEEK).alerts)).toEqual([]);
  });

  it("pages a loop under a sparse key's weekly job once it costs $25 an hour over", () => {
    // A key used two hours a day at ~10M tokens, with a weekly job of ~300M on Monday night (a tenth of its
    // hours used), runs a loop at 130M tokens an hour for three hours ($570 an hour on gpt-4o). Its first
    // hour is a rarely used one; its second opens a level shift, though the two hours together stay under
    // the weekly job.
    const at = 3 * WEEK + 2 * DAY_HOURS + 7;
    const r = rng(71);
    const level = (i: number) => {
      if (i >= at && i < at + 3) return 130_000_000;
      if (i % WEEK === 2) return 300_000_000 * (0.9 + 0.2 * r());
      return i % DAY_HOURS === 8 || i % DAY_HOURS === 9 ? 10_000_000 * (0.8 + 0.4 * r()) : 0;
    };
    const { alerts, state } = replaySeries(level, 4 * WEEK);
    expect(state?.globalUse).toBeLessThan(0.15);
    expect(spikes(alerts).map(hourOf)).toEqual([at + 1]);
  });

  it("pages a cheap key's routine run once, a costly key's each time", () => {
    // A key at ~200k tokens an hour with an hour at 10x now and then (a CI pipeline's evaluation run):
    // about 1.8M tokens over, under $0.50 on gpt-4o-mini, about $8 on gpt-4o.
    const runs = [2 * WEEK + DAY_HOURS + 10, 2 * WEEK + 2 * DAY_HOURS + 15, 2 * WEEK + 3 * DAY_HOURS + 3];
    const opened = (model: string) => {
      const r = rng(53);
      const level = (i: number) => 200_000 * noise(r) * (runs.includes(i) ? 10 : 1);
      return spikes(replaySeries(level, 4 * WEEK, {}, undefined, model).alerts).map(hourOf);
    };
    expect(opened('gpt-4o-mini')).toEqual([runs[0]]);
    expect(opened('gpt-4o')).toEqual(runs);
  });
});
