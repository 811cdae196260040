import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cloneSeriesState,
  RING_HOURS,
  type SeriesState,
  SLOT_COUNT,
} from '../../functions/detection/series-state.ts';
import {
  decodeSeriesState,
  dequantizeTokens,
  encodeSeriesState,
  quantizeTokens,
} from '../../functions/detection/series-state-codec.ts';
import { toItem } from '../../functions/state/series-state-store.ts';

const hour = fc.integer({ min: 400_000, max: 600_000 });
const level = fc.double({ min: 6.9, max: 30, noNaN: true });
const spread = fc.double({ min: 0, max: 5, noNaN: true });
const share = fc.double({ min: 0, max: 1, noNaN: true });
const count = fc.integer({ min: 0, max: 15 });

const stateArb: fc.Arbitrary<SeriesState> = fc.record({
  firstHour: hour,
  lastHour: hour,
  lastSeenHour: hour,
  newKeyAlerted: fc.boolean(),
  globalMean: level,
  globalSpread: spread,
  globalUse: share,
  recentSpread: spread,
  usedHours: fc.integer({ min: 0, max: 65535 }),
  usdPerToken: fc.double({ min: 0, max: 1e-4, noNaN: true }),
  tokensPerRequest: fc.double({ min: 0, max: 1e6, noNaN: true }),
  perRequestSpread: spread,
  burstPeak: fc.double({ min: 0, max: 10, noNaN: true }),
  tokenPeak: fc.double({ min: 0, max: 1e12, noNaN: true }),
  longIncidentStart: hour,
  longIncidentEnd: hour,
  windowPeak: fc.double({ min: 0, max: 1e12, noNaN: true }),
  lastIncidentStart: hour,
  lastLogRatio: fc.double({ min: -10, max: 10, noNaN: true }),
  pendingBurst: fc.double({ min: 0, max: 10, noNaN: true }),
  pendingBurstHour: hour,
  weekendShift: fc.integer({ min: -12, max: 14 }),
  weekendSettled: fc.boolean(),
  slotMean: fc.array(level, { minLength: SLOT_COUNT, maxLength: SLOT_COUNT }),
  slotSpread: fc.array(spread, { minLength: SLOT_COUNT, maxLength: SLOT_COUNT }),
  slotCount: fc.array(count, { minLength: SLOT_COUNT, maxLength: SLOT_COUNT }),
  slotUse: fc.array(share, { minLength: SLOT_COUNT, maxLength: SLOT_COUNT }),
  slotSeen: fc.array(count, { minLength: SLOT_COUNT, maxLength: SLOT_COUNT }),
  ring: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: RING_HOURS, maxLength: RING_HOURS }),
  ringAnomalous: fc.array(fc.boolean(), { minLength: RING_HOURS, maxLength: RING_HOURS }),
  ringIncident: fc.array(fc.boolean(), { minLength: RING_HOURS, maxLength: RING_HOURS }),
  incident: fc.option(
    fc.record({
      startHour: hour,
      lastAlertHour: hour,
      alertedSeverity: fc.integer({ min: 0, max: 3 }),
      lastAbnormalHour: hour,
      normalStreak: fc.integer({ min: 0, max: 48 }),
      excessTokens: fc.double({ min: 0, max: 1e12, noNaN: true }),
      excessUsd: fc.double({ min: 0, max: 1e6, noNaN: true }),
    }),
    { nil: null },
  ),
});

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers about their digits). */
function itemBytes(item: ReturnType<typeof toItem>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    if (value.N !== undefined) bytes += Math.ceil(value.N.length / 2) + 1;
  }
  return bytes;
}

describe('series state codec', () => {
  it('round-trips: decoding is close to the state, and re-encoding is exact', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const encoded = encodeSeriesState(state);
        const decoded = decodeSeriesState(encoded);
        expect(encodeSeriesState(decoded)).toBe(encoded);
        expect(decoded.firstHour).toBe(state.firstHour);
        expect(decoded.lastHour).toBe(state.lastHour);
        expect(decoded.newKeyAlerted).toBe(state.newKeyAlerted);
        expect(decoded.ring).toEqual(state.ring);
        expect(decoded.ringAnomalous).toEqual(state.ringAnomalous);
        expect(decoded.ringIncident).toEqual(state.ringIncident);
        expect(decoded.windowPeak).toBe(Math.fround(state.windowPeak));
        expect(decoded.lastIncidentStart).toBe(state.lastIncidentStart);
        expect(decoded.slotCount).toEqual(state.slotCount);
        expect(decoded.pendingBurstHour).toBe(state.pendingBurstHour);
        expect(decoded.weekendShift).toBe(state.weekendShift);
        expect(decoded.weekendSettled).toBe(state.weekendSettled);
        expect(decoded.tokenPeak).toBe(Math.fround(state.tokenPeak));
        expect(decoded.longIncidentStart).toBe(state.longIncidentStart);
        expect(decoded.longIncidentEnd).toBe(state.longIncidentEnd);
        decoded.slotMean.forEach((v, i) => {
          expect(Math.abs(v - (state.slotMean[i] ?? 0))).toBeLessThanOrEqual(0.0005 + 1e-9);
        });
        expect(decoded.incident === null).toBe(state.incident === null);
        if (state.incident && decoded.incident) {
          expect(decoded.incident.startHour).toBe(state.incident.startHour);
          expect(decoded.incident.alertedSeverity).toBe(state.incident.alertedSeverity);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the item under 1 KB, even with long ids and an open incident', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const id = { projectId: `proj_${'x'.repeat(40)}`, apiKeyId: `key_${'y'.repeat(40)}` };
        expect(itemBytes(toItem(id, state))).toBeLessThanOrEqual(1024);
      }),
      { numRuns: 100 },
    );
  });

  it('quantizes tokens within about 6%', () => {
    for (const tokens of [0, 1, 10, 999, 50_000, 1_234_567, 9e9]) {
      const back = dequantizeTokens(quantizeTokens(tokens));
      expect(Math.abs(back - tokens)).toBeLessThanOrEqual(Math.max(1, tokens * 0.06));
    }
  });

  it('reads states stored by earlier layouts with the same baseline, the weekend to be located again', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const current = Buffer.from(encodeSeriesState(state), 'base64');
        const expected = decodeSeriesState(current.toString('base64'));
        // Version 7: the same bytes without the window peak and the latest incident's start after the long
        // incident's hours, nor the ring's incident hours (21 bytes) before the open incident.
        const baseEnd = current.length - (state.incident ? 22 : 0);
        const v8 = Buffer.concat([current.subarray(0, baseEnd - 21), current.subarray(baseEnd)]);
        const windowAt = 73;
        const end = windowAt + 8;
        const v7 = Buffer.concat([v8.subarray(0, windowAt), v8.subarray(end)]);
        v7.writeUInt8(7, 0);
        const noWindow = {
          ...expected,
          windowPeak: 0,
          lastIncidentStart: 0,
          ringIncident: new Array(RING_HOURS).fill(false),
        };
        expect(decodeSeriesState(v7.toString('base64'))).toEqual(noWindow);
        // Version 6: without the long incident's hours either.
        const longAt = 65;
        const v6 = Buffer.concat([v8.subarray(0, longAt), v8.subarray(end)]);
        v6.writeUInt8(6, 0);
        const noLong = { ...noWindow, longIncidentStart: 0, longIncidentEnd: 0 };
        expect(decodeSeriesState(v6.toString('base64'))).toEqual(noLong);
        // Version 5: without the token peak either.
        const peakAt = 61;
        const v5 = Buffer.concat([v8.subarray(0, peakAt), v8.subarray(end)]);
        v5.writeUInt8(5, 0);
        const noPeak = { ...noLong, tokenPeak: 0 };
        expect(decodeSeriesState(v5.toString('base64'))).toEqual(noPeak);
        // Version 4: without the weekend shift either.
        const shiftAt = 60;
        const v4 = Buffer.concat([v8.subarray(0, shiftAt), v8.subarray(end)]);
        v4.writeUInt8(4, 0);
        const unsettled = { ...noPeak, weekendShift: 0, weekendSettled: false };
        expect(decodeSeriesState(v4.toString('base64'))).toEqual(unsettled);
        // Version 3: without the 8 bytes of the held-back burst either.
        const pendingAt = 52;
        const v3 = Buffer.concat([v8.subarray(0, pendingAt), v8.subarray(end)]);
        v3.writeUInt8(3, 0);
        expect(decodeSeriesState(v3.toString('base64'))).toEqual({
          ...unsettled,
          pendingBurst: 0,
          pendingBurstHour: 0,
        });
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a state of an unknown layout with a clear error', () => {
    expect(() => decodeSeriesState('AAAA')).toThrow(/unknown layout/);
  });

  it('clones a state deeply: equal, and changing the copy leaves the original as it was', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const before = structuredClone(state);
        const copy = cloneSeriesState(state);
        expect(copy).toEqual(state);
        for (const value of Object.values(copy)) {
          if (Array.isArray(value)) value.fill(-1);
        }
        if (copy.incident) copy.incident.startHour = -1;
        copy.lastHour = -1;
        expect(state).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
