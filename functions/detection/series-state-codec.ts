// One series' state as a short base64 string (about 700 characters), so the DynamoDB item stays well
// under 1 KB and costs one write unit. Numbers are quantized; decode(encode(s)) is the stored truth.
import {
  type IncidentState,
  MAX_SLOT_COUNT,
  RING_HOURS,
  type SeriesState,
  SLOT_COUNT,
} from './series-state.ts';

const VERSION = 8;
/**
 * Earlier layouts still read, so an upgrade keeps every baseline: version 7 lacked the window peak and
 * the latest incident's start (8 bytes; read as none) and the ring's incident hours (21 bytes; read as
 * none), version 6 the long incident's hours too (8 bytes; read as none), version 5 the token peak too (4
 * bytes; read as none, last week's busiest hour standing in), version 4 the weekend shift too (1 byte;
 * read as UTC, located again from the week kept), version 3 the held-back burst too (8 bytes).
 */
const OLDER_VERSIONS = new Map([
  [7, 29],
  [6, 37],
  [5, 41],
  [4, 42],
  [3, 50],
]);
const HEADER = 81;
const SLOTS = SLOT_COUNT * 2 + SLOT_COUNT + SLOT_COUNT / 2 + SLOT_COUNT + SLOT_COUNT / 2;
const RING = RING_HOURS + (2 * RING_HOURS) / 8;
const BASE = HEADER + SLOTS + RING;
const INCIDENT = 22;
const MEAN_SCALE = 1000;
const SPREAD_SCALE = 50;

/** Tokens of one hour quantized on a log scale: steps of 2^(1/6) (about 12%), up to 6e12. */
export const quantizeTokens = (tokens: number): number =>
  Math.min(255, Math.max(0, Math.round(Math.log2(1 + Math.max(0, tokens)) * 6)));
const DEQUANTIZED = Array.from({ length: 256 }, (_, q) => Math.round(2 ** (q / 6) - 1));
/** The tokens a quantized value stands for (a table: the ring is read back every hour of every series). */
export const dequantizeTokens = (q: number): number => DEQUANTIZED[q] ?? Math.round(2 ** (q / 6) - 1);

export class StateCodecError extends Error {
  override name = 'StateCodecError';
}

export function encodeSeriesState(s: SeriesState): string {
  const buf = Buffer.alloc(BASE + (s.incident ? INCIDENT : 0));
  let o = 0;
  o = buf.writeUInt8(VERSION, o);
  o = buf.writeUInt8((s.newKeyAlerted ? 1 : 0) | (s.incident ? 2 : 0) | (s.weekendSettled ? 4 : 0), o);
  o = buf.writeUInt32LE(s.firstHour, o);
  o = buf.writeUInt32LE(s.lastHour, o);
  o = buf.writeUInt32LE(s.lastSeenHour, o);
  o = buf.writeFloatLE(s.globalMean, o);
  o = buf.writeFloatLE(s.globalSpread, o);
  o = buf.writeFloatLE(s.globalUse, o);
  o = buf.writeFloatLE(s.recentSpread, o);
  o = buf.writeUInt16LE(Math.min(65535, Math.max(0, Math.round(s.usedHours))), o);
  o = buf.writeFloatLE(s.usdPerToken, o);
  o = buf.writeFloatLE(s.tokensPerRequest, o);
  o = buf.writeFloatLE(s.perRequestSpread, o);
  o = buf.writeFloatLE(s.burstPeak, o);
  o = buf.writeFloatLE(s.lastLogRatio, o);
  o = buf.writeFloatLE(s.pendingBurst, o);
  o = buf.writeUInt32LE(s.pendingBurstHour, o);
  o = buf.writeInt8(Math.round(s.weekendShift), o);
  o = buf.writeFloatLE(s.tokenPeak, o);
  o = buf.writeUInt32LE(s.longIncidentStart, o);
  o = buf.writeUInt32LE(s.longIncidentEnd, o);
  o = buf.writeFloatLE(s.windowPeak, o);
  o = buf.writeUInt32LE(s.lastIncidentStart, o);
  for (let i = 0; i < SLOT_COUNT; i++)
    o = buf.writeUInt16LE(clampInt(s.slotMean[i] ?? 0, MEAN_SCALE, 65535), o);
  for (let i = 0; i < SLOT_COUNT; i++)
    o = buf.writeUInt8(clampInt(s.slotSpread[i] ?? 0, SPREAD_SCALE, 255), o);
  o = writeNibbles(buf, o, s.slotCount);
  for (let i = 0; i < SLOT_COUNT; i++) o = buf.writeUInt8(clampInt(s.slotUse[i] ?? 0, 255, 255), o);
  o = writeNibbles(buf, o, s.slotSeen);
  for (let i = 0; i < RING_HOURS; i++) o = buf.writeUInt8(Math.min(255, Math.max(0, s.ring[i] ?? 0)), o);
  o = writeBits(buf, o, s.ringAnomalous);
  o = writeBits(buf, o, s.ringIncident);
  if (s.incident) {
    const inc = s.incident;
    o = buf.writeUInt32LE(inc.startHour, o);
    o = buf.writeUInt32LE(inc.lastAlertHour, o);
    o = buf.writeUInt32LE(inc.lastAbnormalHour, o);
    o = buf.writeUInt8(Math.min(255, inc.alertedSeverity), o);
    o = buf.writeUInt8(Math.min(255, inc.normalStreak), o);
    o = buf.writeFloatLE(inc.excessTokens, o);
    buf.writeFloatLE(inc.excessUsd, o);
  }
  return buf.toString('base64');
}

export function decodeSeriesState(text: string): SeriesState {
  const buf = Buffer.from(text, 'base64');
  const version = buf[0];
  const missing = version === VERSION ? 0 : OLDER_VERSIONS.get(version ?? -1);
  const base = BASE - (missing ?? 0);
  if (missing === undefined || buf.length < base) {
    throw new StateCodecError(`series state: unknown layout (version ${version}, ${buf.length} bytes)`);
  }
  const flags = buf.readUInt8(1);
  const hasIncident = (flags & 2) !== 0;
  if (hasIncident && buf.length < base + INCIDENT)
    throw new StateCodecError('series state: truncated incident');
  let o = 2;
  const u32 = () => {
    const v = buf.readUInt32LE(o);
    o += 4;
    return v;
  };
  const f32 = () => {
    const v = buf.readFloatLE(o);
    o += 4;
    return v;
  };
  const u8 = () => buf.readUInt8(o++);
  const firstHour = u32();
  const lastHour = u32();
  const lastSeenHour = u32();
  const globalMean = f32();
  const globalSpread = f32();
  const globalUse = f32();
  const recentSpread = f32();
  const usedHours = buf.readUInt16LE(o);
  o += 2;
  const usdPerToken = f32();
  const tokensPerRequest = f32();
  const perRequestSpread = f32();
  const burstPeak = f32();
  const lastLogRatio = f32();
  const pendingBurst = version === 3 ? 0 : f32();
  const pendingBurstHour = version === 3 ? 0 : u32();
  const weekendShift = (version ?? 0) >= 5 ? buf.readInt8(o++) : 0;
  const tokenPeak = (version ?? 0) >= 6 ? f32() : 0;
  const longIncidentStart = (version ?? 0) >= 7 ? u32() : 0;
  const longIncidentEnd = (version ?? 0) >= 7 ? u32() : 0;
  const windowPeak = version === VERSION ? f32() : 0;
  const lastIncidentStart = version === VERSION ? u32() : 0;
  const slotMean: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++, o += 2) slotMean.push(buf.readUInt16LE(o) / MEAN_SCALE);
  const slotSpread: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) slotSpread.push(u8() / SPREAD_SCALE);
  const nibbles = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < SLOT_COUNT; i += 2) {
      const b = u8();
      out.push(b & 15, b >> 4);
    }
    return out;
  };
  const slotCount = nibbles();
  const slotUse: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) slotUse.push(u8() / 255);
  const slotSeen = nibbles();
  const ring: number[] = [];
  for (let i = 0; i < RING_HOURS; i++) ring.push(u8());
  const bits = (): boolean[] => {
    const out: boolean[] = [];
    for (let i = 0; i < RING_HOURS; i += 8) {
      const b = u8();
      for (let k = 0; k < 8; k++) out.push((b & (1 << k)) !== 0);
    }
    return out;
  };
  const ringAnomalous = bits();
  const ringIncident = version === VERSION ? bits() : new Array<boolean>(RING_HOURS).fill(false);
  let incident: IncidentState | null = null;
  if (hasIncident) {
    incident = {
      startHour: u32(),
      lastAlertHour: u32(),
      lastAbnormalHour: u32(),
      alertedSeverity: u8(),
      normalStreak: u8(),
      excessTokens: f32(),
      excessUsd: f32(),
    };
  }
  return {
    firstHour,
    lastHour,
    lastSeenHour,
    newKeyAlerted: (flags & 1) !== 0,
    globalMean,
    globalSpread,
    globalUse,
    recentSpread,
    usedHours,
    usdPerToken,
    tokensPerRequest,
    perRequestSpread,
    burstPeak,
    tokenPeak,
    longIncidentStart,
    longIncidentEnd,
    windowPeak,
    lastIncidentStart,
    lastLogRatio,
    weekendShift,
    weekendSettled: (version ?? 0) >= 5 && (flags & 4) !== 0,
    pendingBurst,
    pendingBurstHour,
    slotMean,
    slotSpread,
    slotCount,
    slotUse,
    slotSeen,
    ring,
    ringAnomalous,
    ringIncident,
    incident,
  };
}

function writeBits(buf: Buffer, offset: number, values: boolean[]): number {
  let o = offset;
  for (let i = 0; i < RING_HOURS; i += 8) {
    let bits = 0;
    for (let b = 0; b < 8; b++) if (values[i + b]) bits |= 1 << b;
    o = buf.writeUInt8(bits, o);
  }
  return o;
}

function writeNibbles(buf: Buffer, offset: number, values: number[]): number {
  let o = offset;
  for (let i = 0; i < SLOT_COUNT; i += 2) {
    const lo = Math.min(MAX_SLOT_COUNT, Math.max(0, values[i] ?? 0));
    const hi = Math.min(MAX_SLOT_COUNT, Math.max(0, values[i + 1] ?? 0));
    o = buf.writeUInt8(lo | (hi << 4), o);
  }
  return o;
}

const clampInt = (x: number, scale: number, max: number): number =>
  Math.min(max, Math.max(0, Math.round(x * scale)));
