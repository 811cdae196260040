import { describe, expect, it } from 'vitest';
import { PRIMING_HOURS, pendingHours } from '../../functions/core/pending-hours.ts';

const H = 3600;
const T = Date.UTC(2026, 10, 20, 12) / 1000; // 12:00 UTC

describe('pendingHours', () => {
  it('waits the grace after an hour closes', () => {
    expect(pendingHours(T + 9 * 60, 10, T - 2 * H)).toEqual({ start: T - H, end: T - H, alertsFrom: T - H });
    expect(pendingHours(T + 10 * 60, 10, T - 2 * H)).toEqual({ start: T - H, end: T, alertsFrom: T - H });
  });

  it('catches up every hour after the watermark, oldest first', () => {
    expect(pendingHours(T + 15 * 60, 10, T - 6 * H)).toEqual({
      start: T - 5 * H,
      end: T,
      alertsFrom: T - 5 * H,
    });
  });

  it('primes a fresh state with the past week and alerts only on its last hour', () => {
    const p = pendingHours(T + 15 * 60, 10, undefined);
    expect((p.end - p.start) / H).toBe(PRIMING_HOURS);
    expect(p).toEqual({ start: T - PRIMING_HOURS * H, end: T, alertsFrom: T - H });
  });

  it('has nothing pending when the watermark is the last closed hour', () => {
    const p = pendingHours(T + 15 * 60, 10, T - H);
    expect(p.start).toBe(p.end);
  });
});
