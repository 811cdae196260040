#!/usr/bin/env node
// A synthetic organization's OpenAI usage, written from ../shared/bench/README.md alone by someone who had
// not seen the detector or the project's other generators: the detection benchmark's blind check.
//   node test/bench/blind-org.ts --seed N --out DIR
// Writes DIR/usage-pages.jsonl (GET /v1/organization/usage/completions pages, bucket_width=1h,
// group_by=project_id,api_key_id,model, 24 buckets a page), DIR/labels.json (score.mjs format) and
// DIR/truth.json (per-key metadata and incident parameters); blindOrganization(seed) returns the same.
// Deterministic per seed (its own PRNG; time zones through the built-in Intl data). Its keys include
// kinds the other generators lack: CI keys running evaluations at random working hours over a small
// background, services with unlabelled bursts of up to 4x for 1-3 hours, batch jobs skipped or run 1-4
// hours late, monthly jobs and gradual model migrations.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

// ───────────────────────────── types ─────────────────────────────
type Region = 'US' | 'BR' | 'UK' | 'DE' | 'FR' | 'IN' | 'JP' | 'AU';
type KeyType = 'service' | 'business' | 'sparse' | 'ci' | 'batch';
type UseCase = 'chat' | 'rag' | 'classify' | 'generate' | 'agent' | 'summarize';
type Arch = 'product' | 'internal' | 'data' | 'rnd' | 'platform';
type SpikeKind = 'runaway_loop' | 'leaked_key' | 'step' | 'ramp' | 'prompt_bloat';
type IncidentKind = SpikeKind | 'new_key';
type JobKind =
  | 'nightly'
  | 'nightly-side'
  | 'nightly-eval'
  | 'weekly'
  | 'weekly-report'
  | 'periodic'
  | 'monthly'
  | 'backfill';

interface DayInfo {
  date: string;
  dow: number;
  h0: number;
  hol: boolean;
  season: boolean;
}

/** Local calendar of one time zone over the generated period, per UTC hour index. */
interface TzInfo {
  tz: Tz;
  region: Region;
  date: string[];
  /** Local wall-clock hour (fractional). */
  lh: Float64Array;
  /** Local day of week, Monday 0. */
  dow: Int8Array;
  dayIdx: Int32Array;
  hol: Uint8Array;
  season: Uint8Array;
  dates: DayInfo[];
  /** Fractional hour index of local wall-clock time (date, hour float), or null outside the period. */
  toH: (d: string, x: number) => number | null;
}

interface ModelInfo {
  /** $ per 1M input tokens (a tier proxy). */
  price: number;
  reasoning: boolean;
  w: number;
}

interface UseProfile {
  inR: readonly [number, number];
  outR: readonly [number, number];
  inS: number;
  outS: number;
  cacheR: readonly [number, number];
}

/** Per-request token model of one model used for one use case. */
interface ModelSpec {
  name: ModelName;
  use: UseCase;
  inMed: number;
  outMed: number;
  inS: number;
  outS: number;
  cache: number;
  meanIn: number;
  meanOut: number;
}

interface Project {
  id: string;
  name: string;
  arch: Arch;
  tz: Tz;
  weight: number;
  b2c: boolean;
}

interface JobRun {
  t: number;
  skipped?: true;
  dur?: number;
}

/** A scheduled (or one-off backfill) job of a key. */
interface Job {
  kind: JobKind;
  spec: ModelSpec;
  skipP: number;
  lateP: number;
  volSd: number;
  /** Unset for a backfill (and then left out of truth.json). */
  weekdaysOnly?: boolean;
  /** Local start hour (period offset for a periodic job); unset for a backfill. */
  start?: number;
  dur: number;
  rate: number;
  dow?: number;
  period?: number;
  /** Backfill start (hour index). */
  t0?: number;
  runs: JobRun[];
}

interface BizShape {
  S: number;
  E: number;
  lunch: number;
  tilt: number;
  night: number;
  eve: number;
}

interface BusinessProfile extends BizShape {
  dowF: number[];
  sat: number;
  sunRatio: number;
  holF: number;
  seasonF: number;
}

interface ServiceCycle {
  peak: number;
  a1: number;
  a2: number;
  peak2: number;
}

interface ServiceProfile {
  b2b: boolean;
  main: ServiceCycle;
  wk: number;
  holF: number;
  seasonF: number;
  fri: number;
  tz2?: Tz;
  tz2I?: TzInfo;
  w2?: number;
  second?: ServiceCycle;
}

interface SparseProfile {
  pDay: number;
  wkP: number;
  extra: number;
  script: boolean;
  mu: number;
  sd: number;
  lenMean: number;
  intSd: number;
}

interface CiProfile extends BizShape {
  runs: number;
  lenR: [number, number];
  intSd: number;
  bg: number;
}

interface BatchProfile {
  bg: number;
}

type KeyShape =
  | { type: 'business'; prof: BusinessProfile }
  | { type: 'service'; prof: ServiceProfile }
  | { type: 'sparse'; prof: SparseProfile }
  | { type: 'ci'; prof: CiProfile }
  | { type: 'batch'; prof: BatchProfile };

/** A label on a key, in hour indices (`end` exclusive). */
interface KeyLabel {
  start: number;
  end: number;
  kind: string;
  ignore?: true;
  spike?: true;
}

interface Cells {
  req: Float64Array;
  inp: Float64Array;
  out: Float64Array;
  cached: Float64Array;
}

interface Migration {
  from: number;
  spec: ModelSpec;
  t0: number;
  width: number;
}

interface JobOwner {
  models: ModelSpec[];
  level: number;
  jobs: Job[];
}

interface KeyCommon extends JobOwner {
  idx: number;
  id: string;
  p: number;
  project_id: string;
  project: string;
  tz: Tz;
  created: number;
  createdFrac: number;
  retired: number;
  r: Rng;
  labels: KeyLabel[];
  incidents: number;
  origin: string;
  tzI: TzInfo;
  /** Log-slope per week. */
  g: number;
  kShape: number;
  arPhi: number;
  arSd: number;
  burstP: number;
  daySd: number;
  mixSd: number;
  use: UseCase;
  shares: number[];
  migration?: Migration;
  adopt?: { days: number };
  // filled by computeExpected
  jobE: Float64Array[];
  base: Float64Array;
  evF: Float64Array;
  ref: number;
  // filled by sampleKey
  cells: Map<string, Cells>;
  lamBase: Float64Array;
  lamJob: Float64Array[];
  mixIn: Float64Array;
  mixOut: Float64Array;
  used: boolean;
}

/** An API key with its usage model; `type` says which profile `prof` is. */
type Key = KeyCommon & KeyShape;

interface KeyOptions {
  type?: KeyType;
  tz?: Tz;
  level?: number;
  created?: number;
  origin?: string;
  g?: number;
  noMigration?: boolean;
}

type IncidentParams = Record<string, string | number | boolean | string[]>;

interface IncidentDraft {
  kind: IncidentKind;
  key: Key;
  /** Extra tokens per hour index. */
  extra: Float64Array;
  params: IncidentParams;
  rollback?: () => void;
}

interface Incident extends IncidentDraft {
  start: number;
  end: number;
  peak: number;
  total: number;
  ignore: boolean;
}

interface OrgEvent {
  kind: 'provider_outage' | 'project_outage' | 'key_pause';
  project_id?: string;
  api_key_id?: string;
  start: number;
  hours: number;
  factor?: number;
}

/** One result of a usage page bucket (grouped by project_id, api_key_id and model). */
export interface UsageResult {
  object: 'organization.usage.completions.result';
  input_tokens: number;
  output_tokens: number;
  input_cached_tokens: number;
  input_audio_tokens: number;
  output_audio_tokens: number;
  num_model_requests: number;
  project_id: string;
  user_id: null;
  api_key_id: string;
  model: string;
  batch: null;
  service_tier: null;
}

export interface UsageBucket {
  object: 'bucket';
  start_time: number;
  end_time: number;
  results: UsageResult[];
}

export interface UsagePage {
  object: 'page';
  data: UsageBucket[];
  has_more: boolean;
  next_page: string | null;
}

/** A label as ../shared/bench/score.mjs reads it (Unix seconds, `end` exclusive). */
export interface BlindLabel {
  project_id: string;
  api_key_id: string;
  start: number;
  end: number;
  kind: string;
  ignore?: true;
}

export interface BlindLabels {
  start: number;
  hours: number;
  warmupHours: number;
  series: number;
  incidents: BlindLabel[];
}

export interface BlindTruth {
  generator: 'gen3';
  seed: number;
  start: number;
  start_date: string;
  hours: number;
  hq_tz: string;
  projects: Array<{ id: string; name: string; archetype: string; tz: string; b2c: boolean }>;
  events: OrgEvent[];
  failed_placements: string[];
  keys: Array<Record<string, unknown>>;
  incidents: Array<Record<string, unknown>>;
}

export interface BlindOrganization {
  seed: number;
  /** Unix seconds of the first hour (a Monday 00:00 UTC) and the number of hours. */
  start: number;
  hours: number;
  /** The usage pages, one JSON line each (without the newline). */
  pages: string[];
  labels: BlindLabels;
  truth: BlindTruth;
  /** The one-line summary the CLI prints. */
  summary: string;
}

// ───────────────────────────── helpers ─────────────────────────────
function def<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('blind-org: unexpected undefined');
  return v;
}
const at = <T>(a: ArrayLike<T>, i: number): T => def(a[i]);
const addAt = (a: Float64Array, i: number, v: number): void => {
  a[i] = at(a, i) + v;
};
const mulAt = (a: Float64Array, i: number, v: number): void => {
  a[i] = at(a, i) * v;
};

// ───────────────────────────── PRNG ─────────────────────────────
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
function mix32(x0: number): number {
  let x = x0;
  x = (x + 0x9e3779b9) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}
class Rng {
  a: number;
  b: number;
  c: number;
  d: number;
  spare: number | null = null;
  // independent stream per label path, so one part of the model does not shift another
  constructor(seed: number, ...labels: Array<string | number>) {
    let s = mix32(seed ^ 0x5bd1e995);
    for (const l of labels) s = mix32(s ^ fnv(String(l)));
    this.a = mix32(s);
    this.b = mix32(this.a ^ 0x1234567);
    this.c = mix32(this.b ^ 0x89abcdef);
    this.d = mix32(this.c ^ 0x2545f491) | 1;
    for (let i = 0; i < 16; i++) this.u();
  }
  u(): number {
    // sfc32
    const a = this.a,
      b = this.b,
      c = this.c,
      d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const c2 = (c << 21) | (c >>> 11);
    this.c = (c2 + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  range(a: number, b: number): number {
    return a + (b - a) * this.u();
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.u() * (b - a + 1));
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0,
      v = 0,
      r = 0;
    do {
      u = 2 * this.u() - 1;
      v = 2 * this.u() - 1;
      r = u * u + v * v;
    } while (r >= 1 || r === 0);
    const f = Math.sqrt((-2 * Math.log(r)) / r);
    this.spare = v * f;
    return u * f;
  }
  logn(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  logU(a: number, b: number): number {
    return Math.exp(this.range(Math.log(a), Math.log(b)));
  }
  gamma(k: number): number {
    // mean k
    if (k < 1) return this.gamma(k + 1) * (this.u() || 1e-12) ** (1 / k);
    const d = k - 1 / 3,
      c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.u();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  poisson(l: number): number {
    if (!(l > 0)) return 0;
    if (l < 40) {
      const L = Math.exp(-l);
      let k = 0,
        p = 1;
      do {
        k++;
        p *= this.u();
      } while (p > L);
      return k - 1;
    }
    return Math.max(0, Math.round(l + Math.sqrt(l) * this.normal()));
  }
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n < 50) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.u() < p) k++;
      return k;
    }
    const m = n * p,
      s = Math.sqrt(n * p * (1 - p));
    if (m < 15) return Math.min(n, this.poisson(m));
    return Math.min(n, Math.max(0, Math.round(m + s * this.normal())));
  }
  pick<T>(a: readonly T[]): T {
    return at(a, Math.floor(this.u() * a.length));
  }
  wpick<T>(items: readonly T[], weights: readonly number[]): T {
    let t = 0;
    for (const w of weights) t += w;
    let r = this.u() * t;
    for (let i = 0; i < items.length; i++) {
      r -= at(weights, i);
      if (r < 0) return at(items, i);
    }
    return at(items, items.length - 1);
  }
  wpickObj<K extends string>(o: Partial<Record<K, number>>): K {
    const k = Object.keys(o) as K[];
    return this.wpick(
      k,
      k.map((x): number => def<number>(o[x])),
    );
  }
  id(n: number): string {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += A.charAt(Math.floor(this.u() * A.length));
    return s;
  }
}
// sum of n per-request token counts, each lognormal(median, sigma), at least 1
function sumLogn(r: Rng, n: number, median: number, sigma: number): number {
  if (n <= 0) return 0;
  if (n <= 30) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.max(1, Math.round(median * Math.exp(sigma * r.normal())));
    return s;
  }
  const mean = median * Math.exp((sigma * sigma) / 2),
    sd = mean * Math.sqrt(Math.exp(sigma * sigma) - 1);
  return Math.max(n, Math.round(n * mean + Math.sqrt(n) * sd * r.normal()));
}
const clamp = (x: number, a: number, b: number): number => Math.max(a, Math.min(b, x));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ───────────────────────────── time ─────────────────────────────
const H = 5 * 7 * 24; // 840 whole hours
const WARMUP = 168;
// Mondays in 2026; several span DST changes (US 2026-03-08 / 2026-11-01, EU 2026-03-29 / 2026-10-25,
// Sydney 2026-04-05 / 2026-10-04) or big holidays.
const START_CANDIDATES = [
  '2026-01-05',
  '2026-02-23',
  '2026-03-16',
  '2026-05-04',
  '2026-08-24',
  '2026-10-12',
  '2026-10-19',
  '2026-11-16',
  '2026-12-07',
];

const TZ_REGION = {
  'America/New_York': 'US',
  'America/Chicago': 'US',
  'America/Los_Angeles': 'US',
  'America/Sao_Paulo': 'BR',
  'Europe/London': 'UK',
  'Europe/Berlin': 'DE',
  'Europe/Paris': 'FR',
  'Asia/Kolkata': 'IN',
  'Asia/Tokyo': 'JP',
  'Australia/Sydney': 'AU',
} as const satisfies Record<string, Region>;
type Tz = keyof typeof TZ_REGION;
const HOLIDAYS: Record<Region, string[]> = {
  US: [
    '2026-01-01',
    '2026-01-19',
    '2026-02-16',
    '2026-05-25',
    '2026-06-19',
    '2026-07-03',
    '2026-09-07',
    '2026-11-26',
    '2026-11-27',
    '2026-12-24',
    '2026-12-25',
    '2026-12-31',
    '2027-01-01',
  ],
  UK: [
    '2026-01-01',
    '2026-04-03',
    '2026-04-06',
    '2026-05-04',
    '2026-05-25',
    '2026-08-31',
    '2026-12-25',
    '2026-12-28',
    '2027-01-01',
  ],
  DE: [
    '2026-01-01',
    '2026-04-03',
    '2026-04-06',
    '2026-05-01',
    '2026-05-14',
    '2026-05-25',
    '2026-10-03',
    '2026-12-24',
    '2026-12-25',
    '2026-12-26',
    '2026-12-31',
    '2027-01-01',
  ],
  FR: [
    '2026-01-01',
    '2026-04-06',
    '2026-05-01',
    '2026-05-08',
    '2026-05-14',
    '2026-05-25',
    '2026-07-14',
    '2026-08-15',
    '2026-11-01',
    '2026-11-11',
    '2026-12-25',
    '2027-01-01',
  ],
  IN: ['2026-01-26', '2026-03-04', '2026-08-15', '2026-10-02', '2026-10-20', '2026-11-09', '2026-12-25'],
  JP: [
    '2026-01-01',
    '2026-01-02',
    '2026-01-12',
    '2026-02-11',
    '2026-02-23',
    '2026-03-20',
    '2026-04-29',
    '2026-05-04',
    '2026-05-05',
    '2026-05-06',
    '2026-07-20',
    '2026-09-21',
    '2026-09-22',
    '2026-09-23',
    '2026-10-12',
    '2026-11-03',
    '2026-11-23',
    '2026-12-29',
    '2026-12-30',
    '2026-12-31',
    '2027-01-01',
  ],
  AU: [
    '2026-01-01',
    '2026-01-26',
    '2026-04-03',
    '2026-04-06',
    '2026-06-08',
    '2026-10-05',
    '2026-12-25',
    '2026-12-28',
    '2027-01-01',
  ],
  BR: [
    '2026-01-01',
    '2026-02-16',
    '2026-02-17',
    '2026-04-03',
    '2026-04-21',
    '2026-05-01',
    '2026-06-04',
    '2026-09-07',
    '2026-10-12',
    '2026-11-02',
    '2026-11-20',
    '2026-12-25',
    '2027-01-01',
  ],
};
const HOLSET = Object.fromEntries(Object.entries(HOLIDAYS).map(([k, v]) => [k, new Set(v)])) as Record<
  Region,
  Set<string>
>;
// the quiet weeks around Christmas/New Year (reduced, not a holiday, not labelled)
const inSeason = (region: Region, d: string): boolean =>
  region !== 'IN' && region !== 'JP' && ((d >= '2026-12-21' && d <= '2026-12-31') || d === '2027-01-02');
const DOWS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

const tzCache = new Map<string, TzInfo>();
function tzInfo(tz: Tz, T0: number): TzInfo {
  const cacheKey = `${T0}|${tz}`;
  const cached = tzCache.get(cacheKey);
  if (cached) return cached;
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
  });
  const region = TZ_REGION[tz];
  const date: string[] = new Array(H),
    lh = new Float64Array(H),
    dow = new Int8Array(H),
    dayIdx = new Int32Array(H),
    hol = new Uint8Array(H),
    season = new Uint8Array(H);
  const dates: DayInfo[] = [],
    dateIndex = new Map<string, number>(),
    hourMap = new Map<string, number>();
  for (let h = 0; h < H; h++) {
    const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
    for (const x of f.formatToParts(new Date((T0 + h * 3600) * 1000))) p[x.type] = x.value;
    const d = `${def(p.year)}-${def(p.month)}-${def(p.day)}`,
      hr = Number(p.hour) % 24,
      mi = Number(p.minute);
    date[h] = d;
    lh[h] = hr + mi / 60;
    dow[h] = def(DOWS[def(p.weekday)]);
    if (!dateIndex.has(d)) {
      dateIndex.set(d, dates.length);
      dates.push({
        date: d,
        dow: at(dow, h),
        h0: h,
        hol: HOLSET[region].has(d),
        season: inSeason(region, d),
      });
    }
    dayIdx[h] = def(dateIndex.get(d));
    hol[h] = HOLSET[region].has(d) ? 1 : 0;
    season[h] = inSeason(region, d) ? 1 : 0;
    const k = `${d}|${hr}`;
    if (!hourMap.has(k)) hourMap.set(k, h);
  }
  // fractional hour index of local wall-clock time (date, hour float), or null when outside the period
  const toH = (d: string, x: number): number | null => {
    const hi = Math.floor(x);
    let h = hourMap.get(`${d}|${hi}`);
    if (h === undefined) {
      h = hourMap.get(`${d}|${hi + 1}`);
      if (h === undefined) return null;
      return h;
    } // DST gap
    return h + (x - at(lh, h));
  };
  const I: TzInfo = { tz, region, date, lh, dow, dayIdx, hol, season, dates, toH };
  tzCache.set(cacheKey, I);
  return I;
}
// add `rate` tokens/hour over the continuous interval [t0, t1) (hour-index units) into arr
function addInterval(arr: Float64Array, t0: number, t1: number, rate: number): void {
  const a = Math.max(0, t0),
    b = Math.min(H, t1);
  for (let h = Math.floor(a); h < b; h++) {
    const ov = Math.min(b, h + 1) - Math.max(a, h);
    if (ov > 0) addAt(arr, h, rate * ov);
  }
}
function coverage(h: number, t0: number, t1: number): number {
  return Math.max(0, Math.min(t1, h + 1) - Math.max(t0, h));
}

// ───────────────────────────── models ─────────────────────────────
// price = $ per 1M input tokens (a tier proxy); reasoning models bill reasoning as output.
const MODELS = {
  'gpt-4o-2024-08-06': { price: 2.5, reasoning: false, w: 6 },
  'gpt-4o-2024-11-20': { price: 2.5, reasoning: false, w: 3 },
  'gpt-4o-mini-2024-07-18': { price: 0.15, reasoning: false, w: 13 },
  'gpt-4.1-2025-04-14': { price: 2.0, reasoning: false, w: 10 },
  'gpt-4.1-mini-2025-04-14': { price: 0.4, reasoning: false, w: 16 },
  'gpt-4.1-nano-2025-04-14': { price: 0.1, reasoning: false, w: 7 },
  'gpt-5-2025-08-07': { price: 1.25, reasoning: true, w: 12 },
  'gpt-5-mini-2025-08-07': { price: 0.25, reasoning: true, w: 15 },
  'gpt-5-nano-2025-08-07': { price: 0.05, reasoning: true, w: 4 },
  'o4-mini-2025-04-16': { price: 1.1, reasoning: true, w: 6 },
  'o3-2025-04-16': { price: 2.0, reasoning: true, w: 2 },
} satisfies Record<string, ModelInfo>;
type ModelName = keyof typeof MODELS;
const MODEL_NAMES = Object.keys(MODELS) as ModelName[];
const PRICEY: readonly ModelName[] = [
  'gpt-5-2025-08-07',
  'gpt-4.1-2025-04-14',
  'gpt-4o-2024-08-06',
  'o3-2025-04-16',
  'o4-mini-2025-04-16',
];
// use cases: input/output tokens per request (medians, log-uniform ranges), per-request spread, cached share
const USE: Record<UseCase, UseProfile> = {
  chat: { inR: [800, 4000], outR: [150, 600], inS: 0.8, outS: 0.6, cacheR: [0.1, 0.6] },
  rag: { inR: [2500, 12000], outR: [150, 500], inS: 0.5, outS: 0.5, cacheR: [0.05, 0.5] },
  classify: { inR: [250, 2000], outR: [3, 120], inS: 0.5, outS: 0.6, cacheR: [0.0, 0.4] },
  generate: { inR: [400, 2000], outR: [600, 2500], inS: 0.6, outS: 0.5, cacheR: [0.0, 0.3] },
  agent: { inR: [6000, 50000], outR: [300, 2000], inS: 0.9, outS: 0.8, cacheR: [0.5, 0.9] },
  summarize: { inR: [2000, 20000], outR: [150, 800], inS: 0.7, outS: 0.5, cacheR: [0.05, 0.4] },
};
const USE_BY_TYPE: Record<KeyType, Partial<Record<UseCase, number>>> = {
  service: { chat: 0.3, rag: 0.25, classify: 0.15, generate: 0.15, agent: 0.15 },
  business: { chat: 0.35, rag: 0.25, agent: 0.2, generate: 0.1, classify: 0.1 },
  sparse: { chat: 0.3, agent: 0.25, rag: 0.15, generate: 0.15, classify: 0.15 },
  ci: { agent: 0.3, rag: 0.2, classify: 0.25, chat: 0.25 },
  batch: { summarize: 0.35, classify: 0.35, generate: 0.15, rag: 0.15 },
};
function makeSpec(r: Rng, name: ModelName, use: UseCase, tweak = 1, batchLike = false): ModelSpec {
  const U = USE[use];
  const inMed = r.logU(...U.inR) * tweak;
  let outMed = r.logU(...U.outR);
  if (MODELS[name].reasoning) outMed *= r.range(2, 5); // reasoning tokens are billed as output
  const inS = batchLike ? U.inS * 0.6 : U.inS,
    outS = batchLike ? U.outS * 0.6 : U.outS;
  const cache = inMed >= 1024 ? r.range(...U.cacheR) : r.chance(0.15) ? r.range(0, 0.1) : 0;
  return {
    name,
    use,
    inMed,
    outMed,
    inS,
    outS,
    cache,
    meanIn: inMed * Math.exp((inS * inS) / 2),
    meanOut: outMed * Math.exp((outS * outS) / 2),
  };
}
function pickModel(r: Rng, level: number, exclude: readonly ModelName[] = []): ModelName {
  const names = MODEL_NAMES.filter((n) => !exclude.includes(n));
  const big = level > 1e6;
  return r.wpick(
    names,
    names.map((n) => MODELS[n].w * (big ? (MODELS[n].price <= 0.4 ? 2.5 : 0.6) : 1)),
  );
}

// ───────────────────────────── organization ─────────────────────────────
const TZ_W: Record<Tz, number> = {
  'America/New_York': 0.24,
  'America/Los_Angeles': 0.24,
  'America/Chicago': 0.04,
  'Europe/London': 0.1,
  'Europe/Berlin': 0.1,
  'Europe/Paris': 0.05,
  'Asia/Kolkata': 0.08,
  'Asia/Tokyo': 0.05,
  'Australia/Sydney': 0.05,
  'America/Sao_Paulo': 0.05,
};
const ARCH: Record<Arch, Partial<Record<KeyType, number>>> = {
  product: { service: 0.55, batch: 0.15, sparse: 0.2, ci: 0.1 },
  internal: { business: 0.7, sparse: 0.15, batch: 0.1, service: 0.05 },
  data: { batch: 0.55, service: 0.1, sparse: 0.25, ci: 0.1 },
  rnd: { sparse: 0.5, ci: 0.2, business: 0.2, batch: 0.1 },
  platform: { service: 0.35, business: 0.35, batch: 0.15, ci: 0.15 },
};
const PROJECT_NAMES = [
  'checkout-assistant',
  'support-bot',
  'search-relevance',
  'data-pipeline',
  'internal-copilot',
  'sales-tools',
  'research-lab',
  'platform-gateway',
  'marketing-content',
  'docs-qa',
  'analytics',
  'mobile-app',
  'fraud-review',
  'hr-helpdesk',
  'eng-productivity',
  'translation',
  'ingest',
  'billing-ops',
  'legal-review',
  'catalog-enrichment',
  'voice-of-customer',
  'onboarding',
];

const LVL_RANGE: Record<KeyType, readonly [number, number]> = {
  service: [3.3, 7.5],
  business: [2.7, 6.8],
  sparse: [2.4, 6.0],
  ci: [3.3, 6.5],
  batch: [4.0, 7.6],
};
function lvlRange(type: KeyType): readonly [number, number] {
  return LVL_RANGE[type];
}

function makeKey(
  seed: number,
  T0: number,
  projects: readonly Project[],
  idx: number,
  p: number,
  opts: KeyOptions = {},
): Key {
  const r = new Rng(seed, 'key', idx);
  const proj = at(projects, p);
  const type = opts.type ?? r.wpickObj(ARCH[proj.arch]);
  const tz = opts.tz ?? (r.chance(0.85) ? proj.tz : r.wpickObj(TZ_W));
  const level = opts.level ?? 10 ** r.range(...lvlRange(type));
  const id = `key_${r.id(16)}`;
  const tzI = tzInfo(tz, T0);
  // trend: organic growth or decline (log-slope per week)
  const gr = r.u();
  const g =
    opts.g ??
    (gr < 0.6
      ? r.normal() * 0.04 + 0.01
      : gr < 0.8
        ? r.range(0.05, 0.18)
        : gr < 0.92
          ? r.range(-0.15, -0.04)
          : 0);
  // noise parameters: per-hour overdispersion (gamma shape), AR(1) log wobble, bursts, day-to-day
  const kShape = r.logU(6, 80);
  const arPhi = r.range(0.5, 0.9);
  const arSd = r.range(0.04, 0.18);
  const burstP = type === 'service' || type === 'business' ? r.logU(0.002, 0.02) : r.logU(0.001, 0.006);
  const daySd = r.range(0.05, 0.2);
  const mixSd = r.range(0.04, 0.12);
  // models of the interactive stream
  const use = r.wpickObj(USE_BY_TYPE[type]);
  const nm = r.wpick([1, 2, 3, 4], [0.4, 0.35, 0.18, 0.07]);
  const names: ModelName[] = [];
  for (let i = 0; i < nm; i++) names.push(pickModel(r, level, names));
  const raw = names.map((_, i) => (i === 0 ? r.range(2.5, 12) : r.logn(1, 0.7)));
  const rs = raw.reduce((a, b) => a + b, 0);
  const models = names.map((n, i) =>
    makeSpec(
      r,
      n,
      i === 0 ? use : r.chance(0.6) ? use : r.wpickObj(USE_BY_TYPE[type]),
      i === 0 ? 1 : r.logn(1, 0.4),
    ),
  );
  const shares = raw.map((x) => x / rs);
  // a gradual model migration (normal, unlabelled)
  let migration: Migration | undefined;
  if (!opts.noMigration && r.chance(0.12)) {
    const to = pickModel(r, level, names);
    migration = { from: 0, spec: makeSpec(r, to, use), t0: r.range(0, H), width: r.range(3, 24) };
    models.push(migration.spec);
    shares.push(0);
  }
  const jobs: Job[] = [];
  const owner: JobOwner = { models, level, jobs };
  // shape parameters
  let shape: KeyShape;
  if (type === 'business') {
    const S = r.range(7.3, 9.8),
      E = r.range(16.8, 19.5);
    shape = {
      type,
      prof: {
        S,
        E,
        lunch: r.range(0.05, 0.35),
        tilt: r.range(-0.2, 0.15),
        night: r.logU(0.003, 0.06),
        eve: r.range(0, 0.18),
        dowF: [
          r.range(0.92, 1.05),
          r.range(1.0, 1.1),
          r.range(1.0, 1.1),
          r.range(0.95, 1.05),
          r.range(0.7, 0.92),
        ],
        sat: r.chance(0.3) ? 0 : r.range(0.01, 0.18),
        sunRatio: r.range(0.3, 0.9),
        holF: r.range(0.02, 0.15),
        seasonF: r.range(0.35, 0.7),
      },
    };
    if (r.chance(0.12)) addJob(owner, r, 'weekly-report');
  } else if (type === 'service') {
    const b2b = !proj.b2c || r.chance(0.2);
    const mk = (): ServiceCycle => ({
      peak: b2b ? r.range(13, 16.5) : r.range(17, 21.5),
      a1: r.range(0.2, 0.75),
      a2: r.range(0, 0.2),
      peak2: r.range(0, 12),
    });
    const prof: ServiceProfile = {
      b2b,
      main: mk(),
      wk: b2b ? r.range(0.3, 0.7) : r.range(0.85, 1.2),
      holF: b2b ? r.range(0.35, 0.65) : r.range(0.95, 1.15),
      seasonF: b2b ? r.range(0.55, 0.8) : r.range(0.9, 1.15),
      fri: b2b ? r.range(0.85, 0.97) : r.range(0.98, 1.08),
    };
    if (r.chance(0.3)) {
      prof.tz2 = r.wpickObj(TZ_W);
      prof.tz2I = tzInfo(prof.tz2, T0);
      prof.w2 = r.range(0.2, 0.5);
      prof.second = mk();
    }
    shape = { type, prof };
    if (r.chance(0.2)) addJob(owner, r, 'nightly-side');
  } else if (type === 'sparse') {
    shape = {
      type,
      prof: {
        pDay: r.chance(0.5) ? r.range(0.15, 0.45) : r.range(0.45, 0.95),
        wkP: r.range(0, 0.25),
        extra: r.range(0, 1.2),
        script: r.chance(0.3),
        mu: r.range(10, 16),
        sd: r.range(1.5, 3.5),
        lenMean: r.range(0.6, 2.5),
        intSd: r.range(0.3, 0.8),
      },
    };
  } else if (type === 'ci') {
    shape = {
      type,
      prof: {
        runs: r.range(0.8, 4),
        lenR: [0.25, r.range(0.8, 2)],
        intSd: r.range(0.4, 0.8),
        bg: r.range(0, 0.1),
        S: 9,
        E: 18.5,
        lunch: 0.2,
        tilt: 0,
        night: 0.01,
        eve: 0.05,
      },
    };
    if (r.chance(0.3)) addJob(owner, r, 'nightly-eval');
  } else {
    const nj = r.wpick([1, 2, 3], [0.6, 0.3, 0.1]);
    for (let i = 0; i < nj; i++) addJob(owner, r, r.wpickObj({ nightly: 0.5, weekly: 0.25, periodic: 0.25 }));
    shape = { type, prof: { bg: r.chance(0.35) ? r.logU(0.002, 0.03) : 0 } };
  }
  const common: KeyCommon = {
    idx,
    id,
    p,
    project_id: proj.id,
    project: proj.name,
    tz,
    level,
    created: opts.created ?? 0,
    createdFrac: 0,
    retired: H,
    r,
    labels: [],
    incidents: 0,
    origin: opts.origin ?? 'initial',
    tzI,
    g,
    kShape,
    arPhi,
    arSd,
    burstP,
    daySd,
    mixSd,
    use,
    models,
    shares,
    migration,
    jobs,
    jobE: [],
    base: new Float64Array(0),
    evF: new Float64Array(0),
    ref: 0,
    cells: new Map(),
    lamBase: new Float64Array(0),
    lamJob: [],
    mixIn: new Float64Array(0),
    mixOut: new Float64Array(0),
    used: false,
  };
  return { ...common, ...shape };
}
function addJob(k: JobOwner, r: Rng, kind: JobKind): void {
  const name = r.chance(0.5) ? at(k.models, 0).name : pickModel(r, k.level, []);
  const use = r.wpickObj(USE_BY_TYPE.batch);
  const spec = makeSpec(r, name, use, 1, true);
  const j: Job = {
    kind,
    spec,
    skipP: r.range(0.01, 0.06),
    lateP: r.range(0.03, 0.12),
    volSd: r.range(0.08, 0.3),
    weekdaysOnly: false,
    dur: 0,
    rate: 0,
    runs: [],
  };
  if (kind === 'nightly' || kind === 'nightly-side' || kind === 'nightly-eval') {
    j.start = r.chance(0.8) ? r.range(0, 5) : r.range(21, 23.9);
    j.dur = r.logU(0.5, 6);
    j.rate = kind === 'nightly' ? k.level : k.level * r.logU(0.8, 6);
    j.weekdaysOnly = kind === 'nightly-eval' || r.chance(0.3);
  } else if (kind === 'weekly' || kind === 'weekly-report') {
    j.dow = r.wpick([6, 5, 0, 4], [0.45, 0.2, 0.25, 0.1]);
    j.start = kind === 'weekly-report' ? r.range(5, 8) : r.range(0, 8);
    j.dur = r.logU(1, 12);
    j.rate = kind === 'weekly' ? k.level * r.range(0.5, 2) : k.level * r.logU(1, 4);
  } else if (kind === 'periodic') {
    j.period = r.pick([1, 2, 3, 4, 6, 12]);
    j.dur = j.period * r.range(0.1, 0.6);
    j.start = r.range(0, j.period);
    j.rate = k.level;
    j.skipP = r.range(0, 0.02);
    j.lateP = 0;
  } else if (kind === 'monthly') {
    j.start = r.range(1, 6);
    j.dur = r.logU(2, 10);
    j.rate = k.level * r.range(2, 4);
  }
  k.jobs.push(j);
}

// ───────────────────────────── expected usage ─────────────────────────────
function bizVal(pf: BizShape, x: number): number {
  const rise = sigmoid((x - pf.S) / 0.6),
    fall = sigmoid((pf.E - x) / 0.7);
  return (
    pf.night +
    rise * fall * (1 - pf.lunch * Math.exp(-(((x - 12.75) / 0.75) ** 2))) * (1 + (pf.tilt * (x - 13)) / 5) +
    pf.eve * Math.exp(-(((x - 21) / 1.5) ** 2))
  );
}
function bizNorm(pf: BizShape): number {
  let s = 0,
    n = 0;
  for (let x = Math.ceil(pf.S) + 0.5; x < pf.E; x++) {
    s += bizVal(pf, x);
    n++;
  }
  return s / Math.max(1, n);
}
function svcVal(c: ServiceCycle, x: number): number {
  return Math.max(
    0.03,
    1 +
      c.a1 * Math.cos((2 * Math.PI * (x - c.peak)) / 24) +
      c.a2 * Math.cos((4 * Math.PI * (x - c.peak2)) / 24),
  );
}

function computeExpected(seed: number, k: Key): void {
  const I = k.tzI,
    r = new Rng(seed, 'expect', k.idx);
  const base = new Float64Array(H);
  // day-to-day factor (AR over local days) with the occasional busy day
  const dayF = new Float64Array(I.dates.length);
  let z = 0;
  for (let d = 0; d < dayF.length; d++) {
    z = 0.4 * z + Math.sqrt(1 - 0.16) * r.normal();
    dayF[d] = Math.exp(k.daySd * z) * (r.chance(0.02) ? r.range(1.3, 1.9) : 1);
  }
  const dayFAt = (h: number): number => at(dayF, at(I.dayIdx, h));
  if (k.type === 'business') {
    const pf = k.prof;
    const norm = bizNorm(pf);
    for (let h = 0; h < H; h++) {
      const dw = at(I.dow, h);
      let f = dw < 5 ? at(pf.dowF, dw) : dw === 5 ? pf.sat : pf.sat * pf.sunRatio;
      if (at(I.hol, h) && dw < 5) f = pf.holF;
      else if (at(I.season, h) && dw < 5) f *= pf.seasonF;
      base[h] = ((k.level * bizVal(pf, at(I.lh, h) + 0.5)) / norm) * f * dayFAt(h);
    }
  } else if (k.type === 'service') {
    const pf = k.prof;
    const part = (II: TzInfo, c: ServiceCycle, h: number): number => {
      const dw = at(II.dow, h);
      let f = dw < 4 ? 1 : dw === 4 ? pf.fri : pf.wk;
      if (at(II.hol, h)) f *= pf.holF;
      else if (at(II.season, h)) f *= pf.seasonF;
      return svcVal(c, at(II.lh, h) + 0.5) * f;
    };
    const second = pf.tz2 ? { I: def(pf.tz2I), c: def(pf.second), w: def(pf.w2) } : null;
    for (let h = 0; h < H; h++) {
      let v = part(I, pf.main, h);
      if (second) v = (1 - second.w) * v + second.w * part(second.I, second.c, h);
      base[h] = k.level * v * dayFAt(h);
    }
  } else if (k.type === 'sparse') {
    const pf = k.prof;
    for (const D of I.dates) {
      const wk = D.dow >= 5;
      const p = pf.pDay * (wk ? pf.wkP : 1) * (D.hol ? 0.2 : 1);
      if (!r.chance(p)) continue;
      const n = 1 + r.poisson(pf.extra);
      for (let s = 0; s < n; s++) {
        const st = pf.script ? r.range(0, 23.5) : clamp(pf.mu + pf.sd * r.normal(), 6, 23.5);
        const len = Math.min(6, 0.25 + -Math.log(1 - r.u()) * pf.lenMean);
        const t0 = I.toH(D.date, st);
        if (t0 === null) continue;
        addInterval(base, t0, t0 + len, k.level * r.logn(1, pf.intSd));
      }
    }
  } else if (k.type === 'ci') {
    const pf = k.prof;
    const norm = bizNorm(pf);
    for (let h = 0; h < H; h++)
      if (at(I.dow, h) < 5 && !at(I.hol, h))
        addAt(base, h, (k.level * pf.bg * bizVal(pf, at(I.lh, h) + 0.5)) / norm);
    for (const D of I.dates) {
      if (D.dow >= 5 || D.hol) continue;
      const n = r.poisson(pf.runs * (D.season ? 0.4 : 1));
      for (let s = 0; s < n; s++) {
        const t0 = I.toH(D.date, r.range(9, 18.5));
        if (t0 === null) continue;
        addInterval(base, t0, t0 + r.range(...pf.lenR), k.level * r.logn(1, pf.intSd));
      }
    }
  } else if (k.type === 'batch') {
    const pf = k.prof;
    if (pf.bg > 0) for (let h = 0; h < H; h++) base[h] = k.level * pf.bg * dayFAt(h);
  }
  // jobs
  k.jobE = k.jobs.map(() => new Float64Array(H));
  k.jobs.forEach((j, ji) => {
    const E = at(k.jobE, ji),
      jr = new Rng(seed, 'job', k.idx, ji);
    j.runs = [];
    const run = (t0: number, vol: number): void => {
      if (jr.chance(j.skipP)) {
        j.runs.push({ t: +t0.toFixed(2), skipped: true });
        return;
      }
      let t = t0;
      if (jr.chance(j.lateP)) t += jr.range(1, 4);
      const v = vol * Math.exp(j.volSd * jr.normal()) * Math.exp((k.g * t) / 168);
      const dur = (j.dur * v) / vol;
      addInterval(E, t, t + dur, j.rate);
      j.runs.push({ t: +t.toFixed(2), dur: +dur.toFixed(2) });
    };
    if (j.kind === 'backfill') {
      const bt0 = j.t0 ?? Number.NaN;
      addInterval(E, bt0, bt0 + j.dur, j.rate);
      j.runs.push({ t: +bt0.toFixed(2), dur: +j.dur.toFixed(2) });
      return;
    }
    if (j.kind === 'periodic') {
      const period = j.period ?? Number.NaN;
      for (let t = j.start ?? Number.NaN; t < H; t += period) run(t + jr.range(-0.05, 0.05) * period, j.dur);
      return;
    }
    for (const D of I.dates) {
      if (j.kind === 'monthly') {
        if (!D.date.endsWith('-01')) continue;
      } else if (j.kind.startsWith('weekly')) {
        if (D.dow !== j.dow) continue;
        if (j.kind === 'weekly-report' && D.hol) continue;
      } else if (j.weekdaysOnly && (D.dow >= 5 || D.hol)) continue;
      const t0 = I.toH(D.date, j.start ?? Number.NaN);
      if (t0 === null) continue;
      run(t0, j.dur);
    }
  });
  // trend, key lifetime, adoption curve for new keys
  for (let h = 0; h < H; h++) {
    let f = Math.exp((k.g * (h - WARMUP)) / 168);
    if (h < k.created || h >= k.retired) f = 0;
    else if (h === k.created) f *= 1 - k.createdFrac;
    if (k.adopt && h >= k.created)
      f *= Math.min(1, 0.08 + sigmoid((((h - k.created) / 24 - k.adopt.days / 2) * 6) / k.adopt.days));
    mulAt(base, h, f);
    for (const E of k.jobE)
      mulAt(E, h, h < k.created || h >= k.retired ? 0 : h === k.created ? 1 - k.createdFrac : 1);
  }
  k.base = base;
  k.evF = new Float64Array(H).fill(1);
  // reference level: typical active-hour tokens (what multipliers refer to)
  if (k.type === 'batch') {
    let s = 0;
    for (let h = 0; h < H; h++) {
      s += at(base, h);
      for (const E of k.jobE) s += at(E, h);
    }
    k.ref = Math.max(s / Math.max(1, H - k.created), k.level * 0.01);
  } else k.ref = k.level;
}
function expAt(k: Key, h: number): number {
  let s = at(k.base, h);
  for (const E of k.jobE) s += at(E, h);
  return s * at(k.evF, h);
}
function expNoEv(k: Key, h: number): number {
  let s = at(k.base, h);
  for (const E of k.jobE) s += at(E, h);
  return s;
}

// ───────────────────────────── drops: outages, pauses, holidays (ignore labels) ─────────────────────────────
function addLabel(k: Key, start: number, end: number, kind: string): void {
  k.labels.push({ start, end, kind, ignore: true });
}
function labelHolidays(k: Key, from: number): void {
  const holSensitive =
    k.type === 'business' || k.type === 'ci' || (k.type === 'service' && k.prof.b2b && !k.prof.tz2);
  if (!holSensitive) return;
  const I = k.tzI;
  let cur: { s: number } | null = null;
  const addHol = (s: number, e: number): void => {
    let any = false;
    for (let h = s; h < e; h++) if (at(k.base, h) > 0) any = true;
    if (!any) return;
    // merge with an overlapping outage label rather than overlap it
    const ov = k.labels.find((l) => l.start < e && l.end > s);
    if (ov) {
      ov.start = Math.min(ov.start, s);
      ov.end = Math.max(ov.end, e);
      ov.kind = `${ov.kind}+holiday`;
      return;
    }
    addLabel(k, s, e, 'holiday');
  };
  for (let h = from; h < H; h++) {
    const on = at(I.hol, h) && at(I.dow, h) < 5 && h >= k.created && h < k.retired;
    if (on && !cur) cur = { s: h };
    if (!on && cur) {
      addHol(cur.s, h);
      cur = null;
    }
  }
  if (cur) addHol(cur.s, H);
}

// ───────────────────────────── baseline sampling ─────────────────────────────
function cellsOf(k: Key, name: string): Cells {
  let c = k.cells.get(name);
  if (!c) {
    c = {
      req: new Float64Array(H),
      inp: new Float64Array(H),
      out: new Float64Array(H),
      cached: new Float64Array(H),
    };
    k.cells.set(name, c);
  }
  return c;
}
function sharesAt(k: Key, h: number): number[] {
  const m = k.migration;
  if (!m) return k.shares;
  const f = sigmoid((h - m.t0) / m.width),
    s = [...k.shares];
  s[s.length - 1] = at(s, m.from) * f;
  s[m.from] = at(s, m.from) * (1 - f);
  return s;
}
function tprOf(specs: readonly ModelSpec[], shares: readonly number[]): number {
  let t = 0;
  for (let i = 0; i < specs.length; i++) {
    const sp = at(specs, i);
    t += at(shares, i) * (sp.meanIn + sp.meanOut);
  }
  return t;
}
// sample n requests of a model spec into the key's cells; returns tokens in+out
function emit(
  k: Key,
  r: Rng,
  spec: ModelSpec,
  h: number,
  n: number,
  mixIn: number,
  mixOut: number,
  cacheOverride: number | null = null,
  inScale = 1,
): number {
  if (n <= 0) return 0;
  const inp = sumLogn(r, n, spec.inMed * mixIn * inScale, spec.inS),
    out = sumLogn(r, n, spec.outMed * mixOut, spec.outS);
  let share = cacheOverride ?? spec.cache;
  share = share > 0 ? clamp(share * Math.exp(0.15 * r.normal()) * (1 - Math.exp(-n / 4)), 0, 0.97) : 0;
  const c = cellsOf(k, spec.name);
  addAt(c.req, h, n);
  addAt(c.inp, h, inp);
  addAt(c.out, h, out);
  addAt(c.cached, h, Math.min(inp, Math.round(inp * share)));
  return inp + out;
}
function splitEmit(
  k: Key,
  r: Rng,
  specs: readonly ModelSpec[],
  shares: readonly number[],
  h: number,
  N: number,
  mixIn: number,
  mixOut: number,
): number {
  let left = N,
    pl = 1,
    tok = 0;
  for (let i = 0; i < specs.length; i++) {
    const sh = at(shares, i);
    const n = i === specs.length - 1 ? left : r.binomial(left, pl > 0 ? clamp(sh / pl, 0, 1) : 0);
    left -= n;
    pl -= sh;
    tok += emit(k, r, at(specs, i), h, n, mixIn, mixOut);
  }
  return tok;
}
function sampleKey(seed: number, k: Key): void {
  const r = new Rng(seed, 'sample', k.idx);
  k.cells = new Map();
  k.lamBase = new Float64Array(H);
  k.lamJob = k.jobs.map(() => new Float64Array(H));
  k.mixIn = new Float64Array(H);
  k.mixOut = new Float64Array(H);
  let ar = 0,
    mi = 0,
    mo = 0,
    burst = 0,
    burstF = 1;
  const arInn = k.arSd * Math.sqrt(1 - k.arPhi * k.arPhi);
  for (let h = 0; h < H; h++) {
    ar = k.arPhi * ar + arInn * r.normal();
    mi = 0.7 * mi + k.mixSd * 0.71 * r.normal();
    mo = 0.7 * mo + k.mixSd * 0.71 * r.normal();
    k.mixIn[h] = Math.exp(mi);
    k.mixOut[h] = Math.exp(mo);
    if (burst > 0) burst--;
    else if (r.chance(k.burstP)) {
      burst = r.int(1, 3);
      burstF = clamp(r.logn(1.7, 0.35), 1.2, 4);
    }
    const ev = at(k.evF, h);
    const E = at(k.base, h) * ev;
    if (E > 0) {
      const sh = sharesAt(k, h);
      const lam =
        (((E / tprOf(k.models, sh)) * Math.exp(ar) * r.gamma(k.kShape)) / k.kShape) *
        (burst > 0 ? burstF : 1);
      k.lamBase[h] = lam;
      splitEmit(k, r, k.models, sh, h, r.poisson(lam), at(k.mixIn, h), at(k.mixOut, h));
    }
    k.jobs.forEach((j, ji) => {
      const Ej = at(at(k.jobE, ji), h) * ev;
      if (!(Ej > 0)) return;
      const lam = (Ej / (j.spec.meanIn + j.spec.meanOut)) * r.logn(1, 0.06);
      at(k.lamJob, ji)[h] = lam;
      emit(k, r, j.spec, h, r.poisson(lam), Math.exp(0.5 * mi), Math.exp(0.5 * mo));
    });
  }
}

// ───────────────────────────── incidents ─────────────────────────────
const KIND_W: Record<SpikeKind, number> = {
  runaway_loop: 0.28,
  leaked_key: 0.2,
  step: 0.18,
  ramp: 0.17,
  prompt_bloat: 0.17,
};
const ELIGIBLE: Record<SpikeKind, readonly KeyType[]> = {
  runaway_loop: ['service', 'business', 'sparse', 'ci', 'batch'],
  leaked_key: ['service', 'business', 'sparse', 'ci'],
  step: ['service', 'business', 'ci', 'batch'],
  ramp: ['service', 'business', 'ci'],
  prompt_bloat: ['service', 'business', 'ci', 'batch'],
};
function freeAt(k: Key, s: number, e: number, margin = 12): boolean {
  return !k.labels.some((l) => l.start < e + margin && l.end + margin > s);
}
function activeHour(k: Key, r: Rng, lo: number, hi: number, thr: number): number | null {
  for (let t = 0; t < 300; t++) {
    const h = r.int(lo, hi);
    if (expAt(k, h) >= thr * k.ref) return h;
  }
  return null;
}
function nightHour(k: Key, r: Rng, lo: number, hi: number): number {
  for (let t = 0; t < 200; t++) {
    const h = r.int(lo, hi);
    const x = at(k.tzI.lh, h);
    if (x >= 21 || x < 5) return h;
  }
  return r.int(lo, hi);
}
// draw requests for `tokens` worth of a spec (with a little overdispersion) and emit; returns tokens
function emitTokens(
  k: Key,
  r: Rng,
  spec: ModelSpec,
  h: number,
  tokens: number,
  cacheOverride: number | null = null,
  inScale = 1,
): number {
  if (!(tokens > 0)) return 0;
  const lam = ((tokens / (spec.meanIn * inScale + spec.meanOut)) * r.gamma(20)) / 20;
  return emit(k, r, spec, h, r.poisson(lam), at(k.mixIn, h), at(k.mixOut, h), cacheOverride, inScale);
}

function runIncident(T0: number, kind: SpikeKind, k: Key, r: Rng): Incident | null {
  const lo = WARMUP,
    hi = H - 4;
  const inc: IncidentDraft = { kind, key: k, extra: new Float64Array(H), params: {} };
  const P = inc.params;
  // snapshot for rollback
  const snap = new Map(
    [...k.cells].map(([n, c]): [string, Cells] => [
      n,
      { req: c.req.slice(), inp: c.inp.slice(), out: c.out.slice(), cached: c.cached.slice() },
    ]),
  );
  inc.rollback = () => {
    k.cells = new Map([...snap].map(([n, c]): [string, Cells] => [n, c]));
  };
  const cellTok = (h: number): number => {
    let s = 0;
    for (const c of k.cells.values()) s += at(c.inp, h) + at(c.out, h);
    return s;
  };
  if (kind === 'runaway_loop') {
    const s = r.chance(0.6) ? (activeHour(k, r, lo, hi, 0.3) ?? r.int(lo, hi)) : r.int(lo, hi);
    const t0 = s + r.u(),
      dur = r.wpick([r.range(0.6, 1.5), r.range(1.5, 3), r.range(3, 5.5)], [0.45, 0.35, 0.2]);
    const m = r.logU(5, 40),
      variant = r.chance(0.5) ? 'retry' : 'agent-context-growth';
    const base = r.chance(0.7) ? at(k.models, 0) : r.pick(k.models);
    Object.assign(P, { multiplier: +m.toFixed(2), hours: +dur.toFixed(2), variant, model: base.name });
    const w0 = Math.floor(t0),
      w1 = Math.ceil(t0 + dur);
    if (!freeAt(k, w0, w1)) return null;
    for (let h = w0; h < Math.min(H, w1); h++) {
      const cov = coverage(h, t0, t0 + dur);
      const grow = variant === 'retry' ? 1 : 1 + 0.6 * (h - w0);
      const tok = m * k.ref * cov * r.logn(1, 0.12);
      const before = cellTok(h);
      emitTokens(k, r, base, h, tok, variant === 'retry' ? 0.9 : Math.max(base.cache, 0.7), grow);
      inc.extra[h] = cellTok(h) - before;
    }
  } else if (kind === 'leaked_key') {
    const s = r.chance(0.6) ? nightHour(k, r, lo, hi) : r.int(lo, hi);
    const t0 = s + r.u(),
      dur = r.logU(12, 96),
      m = r.logU(4, 15);
    const pricey = r.chance(0.6);
    const main = at(k.models, 0).name;
    const name = pricey ? r.pick(PRICEY.filter((n) => n !== main)) : main;
    const spec = makeSpec(r, name, r.chance(0.7) ? 'chat' : 'generate', r.range(1, 3));
    const diurnal = r.chance(0.5) ? { amp: r.range(0.2, 0.6), peak: r.range(0, 24) } : null;
    const rampIn = r.chance(0.5) ? r.int(1, 3) : 0;
    const localStart = at(k.tzI.lh, s);
    Object.assign(P, {
      multiplier: +m.toFixed(2),
      hours: +dur.toFixed(1),
      model: name,
      different_model: pricey && name !== main,
      night_start: localStart >= 21 || localStart < 5,
      ramp_in_h: rampIn,
    });
    const w0 = Math.floor(t0),
      w1 = Math.ceil(t0 + dur);
    if (!freeAt(k, w0, w1)) return null;
    let z = 0;
    for (let h = w0; h < Math.min(H, w1); h++) {
      z = 0.7 * z + 0.2 * r.normal();
      const i = h - w0;
      let f = Math.exp(z) * coverage(h, t0, t0 + dur);
      if (i < rampIn) f *= (i + 1) / (rampIn + 1);
      if (diurnal)
        f *= 1 + diurnal.amp * Math.cos((2 * Math.PI * (((T0 / 3600 + h) % 24) - diurnal.peak)) / 24);
      inc.extra[h] = emitTokens(k, r, spec, h, m * k.ref * f);
    }
  } else if (kind === 'step' || kind === 'prompt_bloat') {
    let s: number | null;
    if (k.type === 'batch') {
      s = null;
      for (let t = 0; t < 300 && s === null; t++) {
        const h = r.int(lo, hi);
        if (k.jobE.some((E) => at(E, h) > 0 && (h === 0 || at(E, h - 1) === 0))) s = h;
      }
    } else s = activeHour(k, r, lo, hi, 0.5);
    if (s === null) return null;
    const t0 = s + (k.type === 'batch' ? 0 : r.u() * 0.9);
    const dur = kind === 'step' ? r.logU(24, 100) : r.logU(6, 72);
    const m = kind === 'step' ? r.range(3, 5) : r.range(5, 10);
    const w0 = Math.floor(t0),
      w1 = Math.ceil(t0 + dur);
    if (!freeAt(k, w0, w1)) return null;
    if (kind === 'step') {
      Object.assign(P, { multiplier: +m.toFixed(2), hours: +dur.toFixed(1) });
      for (let h = w0; h < Math.min(H, w1); h++) {
        const cov = coverage(h, t0, t0 + dur);
        if (cov <= 0) continue;
        const before = cellTok(h);
        const lamBase = at(k.lamBase, h);
        if (lamBase > 0)
          splitEmit(
            k,
            r,
            k.models,
            sharesAt(k, h),
            h,
            r.poisson((m - 1) * lamBase * cov),
            at(k.mixIn, h),
            at(k.mixOut, h),
          );
        k.jobs.forEach((j, ji) => {
          const lamJob = at(at(k.lamJob, ji), h);
          if (lamJob > 0) emit(k, r, j.spec, h, r.poisson((m - 1) * lamJob * cov), 1, 1);
        });
        inc.extra[h] = cellTok(h) - before;
      }
    } else {
      const all = r.chance(0.3);
      const names: string[] = all
        ? [...k.cells.keys()]
        : [k.type === 'batch' ? at(k.jobs, 0).spec.name : at(k.models, 0).name];
      const outF = r.range(1, 1.3),
        newCache = r.range(0, 0.85);
      Object.assign(P, {
        multiplier: +m.toFixed(2),
        hours: +dur.toFixed(1),
        models: names,
        output_factor: +outF.toFixed(2),
        cached_share_of_extra: +newCache.toFixed(2),
      });
      for (let h = w0; h < Math.min(H, w1); h++) {
        const cov = coverage(h, t0, t0 + dur);
        if (cov <= 0) continue;
        let ex = 0;
        for (const n of names) {
          const c = k.cells.get(n);
          if (!c || at(c.req, h) === 0) continue;
          const ei = Math.round((m - 1) * at(c.inp, h) * cov * r.logn(1, 0.08)),
            eo = Math.round((outF - 1) * at(c.out, h) * cov);
          addAt(c.inp, h, ei);
          addAt(c.out, h, eo);
          addAt(c.cached, h, Math.round(ei * newCache));
          ex += ei + eo;
        }
        inc.extra[h] = ex;
      }
    }
  } else if (kind === 'ramp') {
    const s = activeHour(k, r, lo, hi, 0.5);
    if (s === null) return null;
    const t0 = s + r.u() * 0.9,
      M = r.range(5, 10),
      R = r.int(2, 6),
      plateau = r.logU(3, 30),
      down = r.chance(0.4) ? r.int(1, 3) : 0;
    const total = R + plateau + down;
    Object.assign(P, {
      multiplier: +M.toFixed(2),
      ramp_hours: R,
      plateau_hours: +plateau.toFixed(1),
      ramp_down_hours: down,
    });
    const w0 = Math.floor(t0),
      w1 = Math.ceil(t0 + total);
    if (!freeAt(k, w0, w1)) return null;
    for (let h = w0; h < Math.min(H, w1); h++) {
      const cov = coverage(h, t0, t0 + total);
      if (cov <= 0) continue;
      const el = h + 0.5 - t0; // elapsed hours at the middle of the hour
      const mult =
        el < R
          ? 1 + (M - 1) * Math.max(0.05, el / R)
          : el < R + plateau
            ? M
            : M - ((M - 1) * (el - R - plateau)) / (down + 1);
      const tok = (mult - 1) * Math.max(expAt(k, h), 0.5 * k.ref) * cov * r.logn(1, 0.1);
      const before = cellTok(h);
      const sh = sharesAt(k, h);
      const tpr = tprOf(k.models, sh);
      splitEmit(
        k,
        r,
        k.models,
        sh,
        h,
        r.poisson(((tok / tpr) * r.gamma(20)) / 20),
        at(k.mixIn, h),
        at(k.mixOut, h),
      );
      inc.extra[h] = cellTok(h) - before;
    }
  }
  return finishIncident(inc);
}
function finishIncident(inc: IncidentDraft): Incident | null {
  let first = -1,
    last = -1,
    peak = 0,
    total = 0;
  for (let h = 0; h < H; h++) {
    const x = at(inc.extra, h);
    if (x > 0) {
      if (first < 0) first = h;
      last = h;
      peak = Math.max(peak, x);
      total += x;
    }
  }
  if (first < 0 || first < WARMUP) {
    inc.rollback?.();
    return null;
  }
  return Object.assign(inc, { start: first, end: last + 1, peak, total, ignore: peak < 50000 });
}

// ───────────────────────────── the organization ─────────────────────────────
/** Generates the organization of a seed: usage pages, labels (score.mjs format) and truth. */
export function blindOrganization(seed: number): BlindOrganization {
  const SEED = seed;
  const rOrg = new Rng(SEED, 'org');
  const START_DATE = rOrg.pick(START_CANDIDATES);
  const T0 = Date.parse(`${START_DATE}T00:00:00Z`) / 1000;
  if (new Date(T0 * 1000).getUTCDay() !== 1) throw new Error('start is not a Monday');
  const HQ = rOrg.wpickObj(TZ_W);

  const nProjects = rOrg.int(10, 20);
  const totalKeys = rOrg.int(140, 162);
  const nNewNormal = rOrg.int(3, 7);
  const nNewInc = rOrg.int(2, 4);
  const nInitial = totalKeys - nNewNormal - nNewInc;
  const projNames = [...PROJECT_NAMES];
  for (let i = projNames.length - 1; i > 0; i--) {
    const j = Math.floor(rOrg.u() * (i + 1));
    const a = at(projNames, i),
      b = at(projNames, j);
    projNames[i] = b;
    projNames[j] = a;
  }
  const projects: Project[] = [];
  for (let p = 0; p < nProjects; p++) {
    const r = new Rng(SEED, 'project', p);
    const arch = r.wpickObj({ product: 0.3, internal: 0.25, data: 0.15, rnd: 0.15, platform: 0.15 });
    const tz = r.chance(0.65) ? HQ : r.wpickObj(TZ_W);
    projects.push({
      id: `proj_${r.id(24)}`,
      name: at(projNames, p),
      arch,
      tz,
      weight: r.logn(1, 0.7),
      b2c: r.chance(0.5),
    });
  }
  // distribute initial keys over projects (at least one each)
  const keyProject: number[] = [];
  {
    const tw = projects.reduce((s, p) => s + p.weight, 0);
    const r = new Rng(SEED, 'keydist');
    for (let p = 0; p < nProjects; p++) keyProject.push(p);
    while (keyProject.length < nInitial) {
      let x = r.u() * tw;
      let p = 0;
      for (; p < nProjects - 1; p++) {
        x -= at(projects, p).weight;
        if (x < 0) break;
      }
      keyProject.push(p);
    }
  }

  const keys: Key[] = [];
  const newKey = (idx: number, p: number, opts?: KeyOptions): Key =>
    makeKey(SEED, T0, projects, idx, p, opts);
  for (let i = 0; i < nInitial; i++) keys.push(newKey(i, at(keyProject, i)));
  // one org in two has a month-start job on some key (normal, recurring monthly)
  {
    const r = new Rng(SEED, 'monthly');
    if (r.chance(0.5)) {
      const cands = keys.filter((k) => k.type === 'batch' || k.type === 'service');
      if (cands.length) {
        const k = r.pick(cands);
        addJob(k, r, 'monthly');
      }
    }
  }
  // a few keys are retired (project wound down, key rotated away)
  {
    const r = new Rng(SEED, 'retire');
    const n = r.int(0, 3);
    for (let i = 0; i < n; i++) {
      const k = r.pick(keys);
      if (k.level < 1e5) k.retired = Math.floor(r.range(200, H - 24));
    }
  }
  // normal new keys, small, adopted over a few days
  for (let i = 0; i < nNewNormal; i++) {
    const r = new Rng(SEED, 'newnormal', i);
    const p = r.int(0, nProjects - 1);
    const type = r.wpickObj({ sparse: 0.4, business: 0.35, service: 0.25 });
    const k = newKey(keys.length, p, {
      type,
      level: 10 ** r.range(2.5, 4.7),
      created: Math.floor(r.range(36, H - 48)),
      origin: 'new-normal',
      g: 0,
    });
    k.createdFrac = r.u();
    k.adopt = { days: r.range(1, 6) };
    keys.push(k);
  }

  for (const k of keys) computeExpected(SEED, k);

  // drops: outages, pauses, holidays (ignore labels)
  const events: OrgEvent[] = [];
  {
    const r = new Rng(SEED, 'events');
    // provider-side outages: every key drops for 1-4 h, some come back with a catch-up
    const nOut = r.wpick([0, 1, 2], [0.15, 0.6, 0.25]);
    for (let i = 0; i < nOut; i++) {
      const s = Math.floor(r.range(24, H - 30)),
        d = r.int(1, 4),
        depth = r.range(0.03, 0.5);
      events.push({ kind: 'provider_outage', start: s, hours: d, factor: +depth.toFixed(3) });
      for (const k of keys) {
        let any = false;
        for (let h = s; h < s + d; h++) if (expNoEv(k, h) > 0) any = true;
        if (!any) continue;
        for (let h = s; h < s + d; h++) mulAt(k.evF, h, clamp(depth * r.logn(1, 0.3), 0, 1));
        let end = s + d;
        if ((k.type === 'service' || k.type === 'batch') && r.chance(0.4)) {
          const c = r.int(1, 2);
          for (let h = end; h < end + c && h < H; h++) mulAt(k.evF, h, r.range(1.2, 1.7));
          end += c;
        }
        addLabel(k, s, Math.min(H, end), 'outage');
      }
    }
    // own-service outages: one project's live keys go (nearly) dark for a few hours
    const nProj = r.wpick([0, 1, 2], [0.3, 0.5, 0.2]);
    for (let i = 0; i < nProj; i++) {
      const p = r.int(0, nProjects - 1),
        s = Math.floor(r.range(24, H - 20)),
        d = r.int(2, 12);
      if (keys.some((k) => k.p === p && k.labels.some((l) => l.start < s + d + 24 && l.end + 24 > s)))
        continue;
      events.push({ kind: 'project_outage', project_id: at(projects, p).id, start: s, hours: d });
      for (const k of keys) {
        if (k.p !== p || !(k.type === 'service' || k.type === 'business')) continue;
        let any = false;
        for (let h = s; h < s + d; h++) if (expNoEv(k, h) > 0) any = true;
        if (!any) continue;
        const f = r.range(0, 0.1);
        for (let h = s; h < s + d; h++) mulAt(k.evF, h, f);
        addLabel(k, s, s + d, 'outage');
      }
    }
    // single keys paused for days (feature flag off, team away), then back
    const nPause = r.int(0, 3);
    for (let i = 0; i < nPause; i++) {
      const k = r.pick(keys.filter((x) => x.type !== 'sparse' && x.created === 0));
      const s = Math.floor(r.range(48, H - 120)),
        d = Math.floor(r.range(24, 96));
      if (k.labels.some((l) => l.start < s + d + 24 && l.end + 24 > s)) continue;
      for (let h = s; h < s + d; h++) mulAt(k.evF, h, r.range(0, 0.05));
      events.push({ kind: 'key_pause', api_key_id: k.id, start: s, hours: d });
      addLabel(k, s, s + d, 'pause');
    }
    for (const k of keys) labelHolidays(k, 0);
  }

  for (const k of keys) sampleKey(SEED, k);

  // incidents
  const incidents: Incident[] = [];
  const failedPlacements: string[] = [];
  const rInc = new Rng(SEED, 'incidents');
  const nTotalInc = rInc.int(25, 35);
  const nSpike = nTotalInc - nNewInc;
  // spike incidents on existing keys
  {
    // a floor per kind, the rest drawn by weight
    const kinds: SpikeKind[] = [
      'runaway_loop',
      'runaway_loop',
      'runaway_loop',
      'runaway_loop',
      'leaked_key',
      'leaked_key',
      'leaked_key',
      'step',
      'step',
      'step',
      'ramp',
      'ramp',
      'ramp',
      'prompt_bloat',
      'prompt_bloat',
      'prompt_bloat',
    ];
    while (kinds.length < nSpike) kinds.push(rInc.wpickObj(KIND_W));
    for (const kind of kinds) {
      let placed = false;
      for (let attempt = 0; attempt < 60; attempt++) {
        const cands = keys.filter(
          (k) =>
            ELIGIBLE[kind].includes(k.type) &&
            k.created < WARMUP - 72 &&
            k.retired > H - 24 &&
            k.incidents < 2,
        );
        const k = rInc.pick(cands);
        const inc = runIncident(T0, kind, k, new Rng(SEED, 'inc', kind, k.idx, attempt, incidents.length));
        if (!inc) continue;
        k.incidents++;
        k.labels.push({ start: inc.start, end: inc.end, kind, spike: true });
        incidents.push(inc);
        placed = true;
        break;
      }
      if (!placed) failedPlacements.push(kind);
    }
  }
  // new keys that start large
  for (let i = 0; i < nNewInc; i++) {
    const r = new Rng(SEED, 'newinc', i);
    for (let attempt = 0; attempt < 30; attempt++) {
      const variant = r.wpickObj({ backfill: 0.4, launch: 0.35, integration: 0.25 });
      const c = Math.floor(r.range(WARMUP + 6, H - 30));
      const p = r.int(0, nProjects - 1);
      const level = 10 ** r.range(5.3, 7.3);
      const k = newKey(keys.length, p, {
        type: variant === 'launch' ? 'service' : variant === 'integration' ? 'business' : 'batch',
        level,
        created: c,
        origin: 'new_key-incident',
        g: 0,
        noMigration: true,
      });
      k.createdFrac = r.u() * 0.8;
      if (variant === 'backfill') {
        k.jobs = [];
        if (k.type === 'batch') k.prof = { bg: 0 };
        const dur = r.logU(3, 30);
        k.jobs.push({
          kind: 'backfill',
          spec: makeSpec(r, at(k.models, 0).name, r.wpickObj(USE_BY_TYPE.batch), 1, true),
          skipP: 0,
          lateP: 0,
          volSd: 0,
          t0: c + k.createdFrac,
          dur,
          rate: level,
          runs: [],
        });
        if (r.chance(0.6)) {
          addJob(k, r, 'nightly');
          at(k.jobs, 1).rate = level * r.range(0.05, 0.3);
        }
      }
      computeExpected(SEED, k);
      let winEnd = c + 24;
      if (variant === 'backfill') {
        const j0 = at(k.jobs, 0);
        winEnd = Math.ceil((j0.t0 ?? Number.NaN) + j0.dur);
      }
      // avoid provider outages around its first day
      if (
        keys.some((o) =>
          o.labels.some((l) => l.kind.startsWith('outage') && l.start < winEnd + 6 && l.end > c - 6),
        )
      )
        continue;
      keys.push(k);
      sampleKey(SEED, k);
      labelHolidays(k, winEnd);
      const inc: IncidentDraft = {
        kind: 'new_key',
        key: k,
        extra: new Float64Array(H),
        params: { variant, level: Math.round(level), model: at(k.models, 0).name },
      };
      for (let h = c; h < Math.min(H, winEnd); h++)
        for (const cl of k.cells.values()) addAt(inc.extra, h, at(cl.inp, h) + at(cl.out, h));
      const fin = finishIncident(inc);
      if (!fin) {
        keys.pop();
        continue;
      }
      k.labels.push({ start: fin.start, end: fin.end, kind: 'new_key', spike: true });
      incidents.push(fin);
      break;
    }
  }

  // output
  const order = [...keys].sort((a, b) => a.p - b.p || a.idx - b.idx);
  let seriesCount = 0;
  for (const k of keys) {
    k.used = [...k.cells.values()].some((c) => c.req.some((x) => x > 0));
    if (k.used) seriesCount++;
  }
  const pages: string[] = [];
  {
    const rp = new Rng(SEED, 'pages');
    const PER = 24,
      nPages = Math.ceil(H / PER);
    for (let pg = 0; pg < nPages; pg++) {
      const data: UsageBucket[] = [];
      for (let h = pg * PER; h < Math.min(H, (pg + 1) * PER); h++) {
        const results: UsageResult[] = [];
        for (const k of order)
          for (const [name, c] of k.cells) {
            if (!(at(c.req, h) > 0)) continue;
            results.push({
              object: 'organization.usage.completions.result',
              input_tokens: at(c.inp, h),
              output_tokens: at(c.out, h),
              input_cached_tokens: Math.min(at(c.cached, h), at(c.inp, h)),
              input_audio_tokens: 0,
              output_audio_tokens: 0,
              num_model_requests: at(c.req, h),
              project_id: k.project_id,
              user_id: null,
              api_key_id: k.id,
              model: name,
              batch: null,
              service_tier: null,
            });
          }
        data.push({ object: 'bucket', start_time: T0 + h * 3600, end_time: T0 + (h + 1) * 3600, results });
      }
      const more = pg < nPages - 1;
      let cursor: string | null = null;
      if (more) {
        const b = Buffer.alloc(20);
        b.writeUInt32BE(0, 0);
        b.writeUInt32BE((T0 + (pg + 1) * PER * 3600) >>> 0, 4);
        for (let i = 8; i < 20; i++) b[i] = Math.floor(rp.u() * 256);
        cursor = `page_${b.toString('base64')}`;
      }
      const page: UsagePage = { object: 'page', data, has_more: more, next_page: cursor };
      pages.push(JSON.stringify(page));
    }
  }
  const toUnix = (h: number): number => T0 + h * 3600;
  const labelList: BlindLabel[] = [];
  for (const k of keys)
    for (const l of k.labels) {
      if (!k.used) continue;
      const o: BlindLabel = {
        project_id: k.project_id,
        api_key_id: k.id,
        start: toUnix(l.start),
        end: toUnix(Math.min(H, l.end)),
        kind: l.kind,
      };
      if (l.spike) {
        const inc = def(incidents.find((i) => i.key === k && i.start === l.start));
        if (inc.ignore) o.ignore = true;
      } else o.ignore = true;
      labelList.push(o);
    }
  labelList.sort((a, b) => a.start - b.start || a.end - b.end || a.api_key_id.localeCompare(b.api_key_id));
  const labels: BlindLabels = {
    start: T0,
    hours: H,
    warmupHours: WARMUP,
    series: seriesCount,
    incidents: labelList,
  };

  const round = (x: number): number => (x >= 100 ? Math.round(x) : +x.toFixed(3));
  const truth: BlindTruth = {
    generator: 'gen3',
    seed: SEED,
    start: T0,
    start_date: START_DATE,
    hours: H,
    hq_tz: HQ,
    projects: projects.map((p) => ({ id: p.id, name: p.name, archetype: p.arch, tz: p.tz, b2c: p.b2c })),
    events,
    failed_placements: failedPlacements,
    keys: keys.map((k) => {
      const prof: Array<[string, unknown]> = Object.entries(k.prof);
      return {
        api_key_id: k.id,
        project_id: k.project_id,
        project: k.project,
        type: k.type,
        origin: k.origin,
        tz: k.tz,
        used: k.used,
        level_tokens_per_hour: round(k.level),
        ref_tokens_per_hour: round(k.ref),
        growth_per_week: +k.g.toFixed(3),
        created_hour: k.created,
        retired_hour: k.retired < H ? k.retired : null,
        noise: {
          gamma_shape: +k.kShape.toFixed(1),
          ar_phi: +k.arPhi.toFixed(2),
          ar_sd: +k.arSd.toFixed(3),
          burst_p: +k.burstP.toFixed(4),
          day_sd: +k.daySd.toFixed(3),
        },
        profile: Object.fromEntries(
          prof.filter(([n]) => n !== 'tz2I').map(([n, v]) => [n, typeof v === 'number' ? +v.toFixed(3) : v]),
        ),
        models: k.models.map((m, i) => ({
          model: m.name,
          share: +(k.shares[i] ?? 0).toFixed(3),
          use: m.use,
          in_per_req: Math.round(m.inMed),
          out_per_req: Math.round(m.outMed),
          cached_share: +m.cache.toFixed(2),
        })),
        migration: k.migration
          ? {
              to: k.migration.spec.name,
              mid_hour: Math.round(k.migration.t0),
              width_h: +k.migration.width.toFixed(1),
            }
          : null,
        jobs: k.jobs.map((j) => ({
          kind: j.kind,
          model: j.spec.name,
          local_start: j.start !== undefined ? +j.start.toFixed(2) : null,
          dow: j.dow ?? null,
          period_h: j.period ?? null,
          hours: +j.dur.toFixed(2),
          tokens_per_hour: Math.round(j.rate),
          weekdays_only: j.weekdaysOnly,
          skip_p: +j.skipP.toFixed(3),
          late_p: +j.lateP.toFixed(3),
          runs: j.runs.length,
          skipped: j.runs.filter((x) => x.skipped).length,
        })),
        labels: k.labels.map((l) => ({ kind: l.kind, start_hour: l.start, end_hour: l.end })),
      };
    }),
    incidents: incidents
      .sort((a, b) => a.start - b.start)
      .map((i) => ({
        kind: i.kind,
        project_id: i.key.project_id,
        api_key_id: i.key.id,
        key_type: i.key.type,
        key_ref_tokens_per_hour: round(i.key.ref),
        start: toUnix(i.start),
        end: toUnix(i.end),
        start_hour: i.start,
        hours: i.end - i.start,
        peak_extra_tokens_per_hour: Math.round(i.peak),
        total_extra_tokens: Math.round(i.total),
        ignore: i.ignore,
        ...i.params,
      })),
  };
  const cnt: Record<string, number> = {};
  for (const i of incidents) {
    cnt[i.kind] = (cnt[i.kind] ?? 0) + 1;
  }
  const summary = `seed ${SEED}: start ${START_DATE} hq ${HQ}, ${nProjects} projects, ${keys.length} keys (${seriesCount} series), incidents ${incidents.length} (${incidents.filter((i) => i.ignore).length} ignore) ${JSON.stringify(cnt)}, failed ${failedPlacements.join(',')} drop-labels ${labelList.filter((l) => !(l.kind in KIND_W) && l.kind !== 'new_key').length}`;
  return { seed: SEED, start: T0, hours: H, pages, labels, truth, summary };
}

// ───────────────────────────── CLI ─────────────────────────────
if (import.meta.main) {
  const { values: ARGS } = parseArgs({
    options: { seed: { type: 'string', default: '1' }, out: { type: 'string', default: './org' } },
  });
  const SEED = Number.parseInt(ARGS.seed, 10);
  if (!Number.isFinite(SEED)) throw new Error('--seed must be an integer');
  const OUT = ARGS.out;
  const org = blindOrganization(SEED);
  fs.mkdirSync(OUT, { recursive: true });
  const fd = fs.openSync(path.join(OUT, 'usage-pages.jsonl'), 'w');
  for (const page of org.pages) fs.writeSync(fd, `${page}\n`);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(OUT, 'labels.json'), `${JSON.stringify(org.labels, null, 1)}\n`);
  fs.writeFileSync(path.join(OUT, 'truth.json'), `${JSON.stringify(org.truth, null, 1)}\n`);
  console.log(org.summary);
}
