// A second organization generator for the detection benchmark, written independently of functions/local/
// from the description of organizations in ../shared/bench/README.md, so the benchmark is not tuned to one
// generator. Deterministic for a seed. It models: 10-25 projects and their keys in real time zones (US and
// EU summer time, public holidays, company days off); business-hours keys (ramps in and out, lunch dip,
// Friday, weekends), services with a daily cycle, sparse keys used a few hours a day, batch keys with
// nightly and weekly jobs (skipped nights and their reruns), dormant keys; growth or decline, day-to-day
// wander and odd hours; one to three models per key and migrations to a successor model; request counts
// negative-binomial and tokens per request lognormal, cached tokens in blocks of 64; outages (drops, then a
// return, sometimes with a catch-up burst); and incidents: runaway loops, leaked keys (often at night, often
// on another model), steps, ramps, prompt bloat and new keys. Holidays, outages and incidents whose excess
// stays under 50,000 tokens an hour are labelled `ignore`. Rows are what the usage pages (grouped by
// project_id, api_key_id and model) become through functions/usage-api/usage-pages-to-hours.ts.
//   node test/bench/independent-org.ts --seed 11 [--keys 150] [--weeks 5] --out DIR
// writes DIR/usage-pages.jsonl and DIR/labels.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HOUR_SECONDS, type UsageRow } from '../../functions/core/usage.ts';

export interface IndependentLabel {
  project_id: string;
  api_key_id: string;
  /** Unix seconds, the first hour; `end` is exclusive. */
  start: number;
  end: number;
  kind: 'runaway_loop' | 'leaked_key' | 'step' | 'ramp' | 'prompt_bloat' | 'new_key' | 'outage' | 'holiday';
  ignore?: true;
}

/** The format ../shared/bench/score.mjs reads. */
export interface IndependentLabels {
  start: number;
  hours: number;
  warmupHours: number;
  series: number;
  incidents: IndependentLabel[];
}

export interface IndependentOrg {
  seed: number;
  /** Unix seconds (Monday 2026-03-02 00:00 UTC) and length of the labelled period. */
  start: number;
  hours: number;
  /** Rows per (project, key, model) of the hour starting at `hourStart`; the same hour always gives the same rows. */
  usageAt(hourStart: number): UsageRow[];
  labels: IndependentLabels;
}

const START = Date.UTC(2026, 2, 2) / 1000; // Monday 2026-03-02T00:00Z
const WARM = 168;
const BIG = 50000;

const defined = <T>(v: T | undefined): T => {
  if (v === undefined) throw new Error('independent-org: unexpected undefined');
  return v;
};
/** Reads an element as the untyped generator did (out of range: NaN in arithmetic). */
const at = (a: ArrayLike<number>, i: number): number => a[i] ?? Number.NaN;

// ---------- seeded randomness: splitmix32 seeds an sfc32 stream per purpose ----------
class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | null = null;

  constructor(...parts: number[]) {
    let s = parts.reduce((h, x) => Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0, 0x811c9dc5);
    const sm = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    for (let i = 0; i < 12; i++) this.u();
  }

  u(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  uni(lo: number, hi: number): number {
    return lo + (hi - lo) * this.u();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.u());
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  /** undefined for an empty array. */
  pick<T>(arr: readonly T[]): T | undefined {
    return arr[Math.floor(this.u() * arr.length)];
  }
  logu(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * this.u());
  }
  pickW<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
    let t = 0;
    for (const [, w] of pairs) t += w;
    let x = this.u() * t;
    for (const [v, w] of pairs) {
      x -= w;
      if (x < 0) return v;
    }
    return defined(pairs.at(-1))[0];
  }
  /** Marsaglia polar (Box-Muller variant). */
  norm(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let x: number;
    let y: number;
    let q: number;
    do {
      x = 2 * this.u() - 1;
      y = 2 * this.u() - 1;
      q = x * x + y * y;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    this.#spare = y * f;
    return x * f;
  }
  /** Marsaglia-Tsang. */
  gamma(k: number): number {
    if (k < 1) return this.gamma(k + 1) * this.u() ** (1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.norm();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const w = this.u();
      if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  poisson(l: number): number {
    if (!(l > 0)) return 0;
    if (l < 40) {
      const L = Math.exp(-l);
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= this.u();
      } while (p > L);
      return k - 1;
    }
    return Math.max(0, Math.round(l + Math.sqrt(l) * this.norm()));
  }
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const rid = (r: Rng, n: number): string =>
  Array.from({ length: n }, () => ALNUM.charAt(Math.floor(r.u() * 62))).join('');
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const sig = (x: number): number => 1 / (1 + Math.exp(-x));

// ---------- time zones (real tz rules through Intl, so US DST 2026-03-08 and EU DST 2026-03-29 apply) ----------
const TZS: ReadonlyArray<readonly [string, number]> = [
  ['America/New_York', 0.2],
  ['America/Chicago', 0.07],
  ['America/Los_Angeles', 0.17],
  ['America/Sao_Paulo', 0.05],
  ['Europe/London', 0.12],
  ['Europe/Berlin', 0.1],
  ['Europe/Paris', 0.05],
  ['Asia/Kolkata', 0.08],
  ['Asia/Singapore', 0.05],
  ['Asia/Tokyo', 0.07],
  ['Australia/Sydney', 0.04],
];
const HOLIDAYS: Partial<Record<string, readonly string[]>> = {
  'Europe/London': ['2026-04-03', '2026-04-06'],
  'Europe/Berlin': ['2026-04-03', '2026-04-06'],
  'Europe/Paris': ['2026-04-06'],
  'Asia/Tokyo': ['2026-03-20'],
  'Asia/Kolkata': ['2026-03-04', '2026-03-26', '2026-04-03'],
  'Asia/Singapore': ['2026-04-03'],
  'Australia/Sydney': ['2026-04-03', '2026-04-06'],
  'America/Sao_Paulo': ['2026-04-03'],
};
/** Per hour bucket: local hour at its midpoint, local weekday (0 = Sunday). */
interface Clock {
  hr: Float64Array;
  dow: Int8Array;
}
/** ... and the local date (YYYY-MM-DD). */
interface LocalTimes extends Clock {
  date: string[];
}
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function localTimes(tz: string, H: number): LocalTimes {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const hr = new Float64Array(H);
  const dow = new Int8Array(H);
  const date: string[] = new Array<string>(H);
  for (let h = 0; h < H; h++) {
    const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
    for (const x of f.formatToParts(new Date((START + h * 3600 + 1800) * 1000))) p[x.type] = x.value;
    hr[h] = Number(p.hour) + Number(p.minute) / 60;
    dow[h] = WEEKDAYS.indexOf(p.weekday ?? '');
    date[h] = `${p.year}-${p.month}-${p.day}`;
  }
  return { hr, dow, date };
}

// ---------- models ----------
const MODELS: ReadonlyArray<readonly [string, number]> = [
  ['gpt-4o-mini-2024-07-18', 0.28],
  ['gpt-4.1-mini-2025-04-14', 0.18],
  ['gpt-4o-2024-08-06', 0.12],
  ['gpt-4.1-2025-04-14', 0.09],
  ['gpt-5-mini-2025-08-07', 0.1],
  ['o3-mini-2025-01-31', 0.05],
  ['gpt-4.1-nano-2025-04-14', 0.07],
  ['gpt-5-2025-08-07', 0.04],
  ['gpt-5-nano-2025-08-07', 0.04],
  ['o4-mini-2025-04-16', 0.03],
];
const SUCCESSOR: Partial<Record<string, readonly string[]>> = {
  'gpt-4o-mini-2024-07-18': ['gpt-4.1-mini-2025-04-14', 'gpt-5-mini-2025-08-07'],
  'gpt-4o-2024-08-06': ['gpt-4.1-2025-04-14', 'gpt-5-2025-08-07'],
  'gpt-4.1-mini-2025-04-14': ['gpt-5-mini-2025-08-07'],
  'gpt-4.1-2025-04-14': ['gpt-5-2025-08-07'],
  'o3-mini-2025-01-31': ['o4-mini-2025-04-16'],
  'gpt-4.1-nano-2025-04-14': ['gpt-5-nano-2025-08-07'],
};
const reasoning = (m: string): boolean => /^(o\d|gpt-5)/.test(m);

interface ModelEntry {
  name: string;
  /** Tokens per request, times the key's. */
  tprF: number;
  /** Output share of the tokens. */
  outF: number;
}
interface ModelUse extends ModelEntry {
  w: number;
  /** Share of the key's main traffic in hour h. */
  share: (h: number) => number;
}
function modelEntry(r: Rng, name: string, keyOut: number): ModelEntry {
  return {
    name,
    tprF: r.logu(0.6, 1.6),
    outF: clamp(keyOut * (reasoning(name) ? r.uni(1.5, 2.5) : 1), 0.02, 0.85),
  };
}

type KeyType = 'business' | 'service' | 'sparse' | 'batch' | 'weekly' | 'mixed' | 'zero';
type IncidentKind = 'runaway_loop' | 'leaked_key' | 'step' | 'ramp' | 'prompt_bloat' | 'new_key';
const KINDS: ReadonlyArray<readonly [IncidentKind, number]> = [
  ['runaway_loop', 0.26],
  ['leaked_key', 0.16],
  ['step', 0.16],
  ['ramp', 0.14],
  ['prompt_bloat', 0.14],
  ['new_key', 0.14],
];

interface Job {
  tz: string;
  /** weekly jobs: the day of the week (0 = Sunday) a run starts on. */
  dow: number;
  hour: number;
  dur: number;
  vol: number;
  weekdaysOnly: boolean;
}
/** Traffic on top of a key's own (runaway loops, leaked keys). */
interface Extra {
  model: string;
  tpr: number;
  outF: number;
  cacheF: number;
  exp: Float64Array;
}
interface Key {
  i: number;
  r: Rng;
  id: string;
  project: string;
  tz: string;
  isNew: boolean;
  newBig: boolean;
  type: KeyType;
  sub: 'business' | 'service' | undefined;
  /** Typical active-hour tokens. */
  L: number;
  tpr: number;
  sReq: number;
  nbK: number;
  sHour: number;
  out: number;
  cacheF: number;
  models: ModelUse[];
  primary: ModelUse;
  // business curve (local time) and service cycle
  bStart: number;
  bEnd: number;
  rise: number;
  fall: number;
  lunch: number;
  lunchAt: number;
  amBoost: number;
  floor: number;
  eve: number;
  fri: number;
  wkend: number;
  amp: number;
  peak: number;
  svcWk: number;
  /** Growth per week (log), wander and odd hours. */
  g: number;
  wanderSd: number;
  pOdd: number;
  nightly: Job | undefined;
  weekly: Job | undefined;
  batchModel: ModelEntry;
  trickle: boolean;
  sparse: { pDay: number; mean: number; clustered: boolean; center: number; spread: number };
  mult: Float64Array;
  bloat: Float64Array;
  off: Float64Array;
  extras: Extra[];
  holidays: Set<string>;
  busy: Array<[number, number]>;
  main: Float64Array;
  batch: Float64Array;
  newStart: number;
}
interface Sampled {
  model: string;
  n: number;
  inp: number;
  cached: number;
  out: number;
}

function businessShape(k: Key, lh: number, dow: number, hol: boolean): number {
  const day = sig((lh - k.bStart) / k.rise) * sig((k.bEnd - lh) / k.fall);
  const lunch = 1 - k.lunch * Math.exp(-0.5 * ((lh - k.lunchAt) / 0.7) ** 2);
  const am = 1 + k.amBoost * Math.exp(-0.5 * ((lh - 10.5) / 1.5) ** 2);
  let v = k.floor + (1 - k.floor) * day * lunch * am + k.eve * sig((lh - 19.5) / 0.8) * sig((23 - lh) / 0.8);
  if (dow === 5) v *= k.fri;
  if (dow === 0 || dow === 6 || hol) v *= k.wkend;
  return v;
}

/** Sampling: requests are count-like, tokens per request lognormal. */
function sample(
  r: Rng,
  k: Key,
  model: string,
  E: number,
  tpr: number,
  bloat: number,
  outF: number,
  cacheF: number,
): Sampled | null {
  const n = r.poisson(((E / tpr) * r.gamma(k.nbK)) / k.nbK); // negative binomial around the rate
  if (n <= 0) return null;
  const s = k.sReq;
  let tot = 0;
  if (n < 30) for (let j = 0; j < n; j++) tot += tpr * Math.exp(s * r.norm() - (s * s) / 2);
  else tot = n * tpr * Math.max(0.2, 1 + (Math.sqrt(Math.exp(s * s) - 1) / Math.sqrt(n)) * r.norm());
  const of = clamp(outF * Math.exp(0.12 * r.norm()), 0.005, 0.95);
  const out = Math.max(0, Math.round(tot * of));
  let inp = Math.max(n, Math.round(tot - out));
  const cached = Math.min(
    inp,
    Math.floor((inp * clamp(cacheF * Math.exp(0.2 * r.norm()), 0, 0.95)) / 64) * 64,
  );
  if (bloat > 1) inp = Math.round((inp * (bloat - of)) / (1 - of)); // bigger prompts, same requests
  return { model, n, inp, cached, out };
}

export function independentOrganization(options: {
  seed: number;
  keys?: number;
  weeks?: number;
}): IndependentOrg {
  const SEED = Number(options.seed) >>> 0;
  const NKEYS = Math.max(10, Number(options.keys ?? 150) | 0);
  const WEEKS = Math.max(2, Number(options.weeks ?? 5) | 0);
  const H = WEEKS * 168;

  const LOC = new Map<string, LocalTimes>();
  const loc = (tz: string): LocalTimes => {
    let v = LOC.get(tz);
    if (!v) {
      v = localTimes(tz, H);
      LOC.set(tz, v);
    }
    return v;
  };
  const UTCL: Clock = {
    hr: Float64Array.from({ length: H }, (_, x) => (x % 24) + 0.5),
    dow: Int8Array.from({ length: H }, (_, x) => (1 + Math.floor(x / 24)) % 7),
  };

  // ---------- organization ----------
  const org = new Rng(SEED, 1);
  const nProj = org.int(10, 25);
  const projects = Array.from({ length: nProj }, () => ({
    id: `proj_${rid(org, 24)}`,
    tz: org.pickW(TZS),
    w: org.logu(0.3, 4),
  }));
  const nInc = org.int(25, 45);
  const kindList = Array.from({ length: nInc }, () => org.pickW(KINDS));
  const nNewBig = kindList.filter((k) => k === 'new_key').length;
  const nNewSmall = org.int(1, 2);
  const newIdx = new Set<number>();
  while (newIdx.size < Math.min(nNewBig + nNewSmall, Math.floor(NKEYS / 5)))
    newIdx.add(org.int(0, NKEYS - 1));
  const newList = [...newIdx];

  const keys = Array.from({ length: NKEYS }, (_, i): Key => {
    const r = new Rng(SEED, 100 + i);
    const proj = i < nProj ? defined(projects[i]) : org.pickW(projects.map((p) => [p, p.w] as const));
    const ni = newList.indexOf(i);
    const isNew = ni >= 0;
    const newBig = isNew && ni < nNewBig;
    const id = `key_${rid(r, 16)}`;
    const tz = r.chance(0.8) ? proj.tz : r.pickW(TZS);
    const type: KeyType = isNew
      ? r.pickW<KeyType>([
          ['business', 0.45],
          ['service', 0.4],
          ['mixed', 0.15],
        ])
      : r.pickW<KeyType>([
          ['business', 0.36],
          ['service', 0.24],
          ['sparse', 0.16],
          ['batch', 0.07],
          ['weekly', 0.03],
          ['mixed', 0.1],
          ['zero', 0.04],
        ]);
    const sub = type === 'mixed' ? (r.chance(0.6) ? 'business' : 'service') : undefined;
    const L = newBig ? r.logu(3e5, 1e7) : isNew ? r.logu(2e3, 3e4) : 10 ** r.uni(2.5, 7.5);
    const tpr = r.logu(250, 6000);
    const sReq = r.uni(0.4, 1.1);
    const nbK = r.logu(15, 300);
    const sHour = r.uni(0.03, 0.13);
    const out = r.uni(0.05, 0.4);
    const cacheF = r.chance(0.3) ? 0 : r.uni(0.1, 0.75);
    const nm = r.pickW([
      [1, 0.6],
      [2, 0.28],
      [3, 0.12],
    ]);
    const names = new Set<string>();
    while (names.size < nm) names.add(r.pickW(MODELS));
    let wsum = 0;
    const models = [...names].map((n, j): ModelUse => {
      const e = modelEntry(r, n, out);
      const w = j === 0 ? r.uni(2, 9) : r.uni(0.3, 1.5);
      wsum += w;
      const m: ModelUse = { ...e, w, share: () => m.w };
      return m;
    });
    for (const e of models) e.w /= wsum;
    const curve = {
      bStart: r.uni(6.5, 9.5),
      bEnd: r.uni(16.5, 19.5),
      rise: r.uni(0.5, 1.2),
      fall: r.uni(0.8, 2),
      lunch: r.uni(0, 0.35),
      lunchAt: r.uni(12, 13.5),
      amBoost: r.uni(0, 0.3),
      floor: r.logu(0.003, 0.08),
      eve: r.uni(0, 0.2),
      fri: r.uni(0.75, 1),
      wkend: r.chance(0.3) ? 0 : r.logu(0.02, 0.3),
      amp: r.uni(0.08, 0.5),
      peak: r.uni(11, 21),
      svcWk: r.uni(0.55, 1),
    };
    // growth, wander, heavy-tailed hours
    const trend = r.pickW([
      ['up', 0.4],
      ['down', 0.2],
      ['flat', 0.4],
    ]);
    const g = trend === 'up' ? r.uni(0.01, 0.05) : trend === 'down' ? -r.uni(0.005, 0.04) : 0.005 * r.norm();
    const wanderSd = r.uni(0.03, 0.12);
    const pOdd = r.uni(0.002, 0.012);
    // batch jobs
    const batchLike = type === 'batch' || type === 'mixed' || (type === 'service' && r.chance(0.08));
    const nightly: Job | undefined = batchLike
      ? {
          tz: r.chance(0.6) ? 'UTC' : tz,
          hour: r.pickW([
            [0, 1],
            [1, 2],
            [2, 3],
            [3, 2],
            [4, 1],
            [5, 1],
            [22, 0.5],
            [23, 0.5],
          ]),
          dur: r.int(1, 3),
          vol: type === 'batch' ? L : L * r.uni(2, 8),
          weekdaysOnly: r.chance(0.25),
          dow: -1,
        }
      : undefined;
    const weekly: Job | undefined =
      type === 'weekly' || (type === 'service' && r.chance(0.1)) || (type === 'business' && r.chance(0.05))
        ? {
            tz: r.chance(0.5) ? 'UTC' : tz,
            dow: r.int(0, 6),
            hour: r.int(0, 23),
            dur: r.int(1, 4),
            vol: type === 'weekly' ? L : L * r.uni(2, 10),
            weekdaysOnly: false,
          }
        : undefined;
    const primary = defined(models[0]);
    const bm = r.chance(0.5)
      ? primary
      : modelEntry(
          r,
          defined(
            r.pick([
              'gpt-4o-mini-2024-07-18',
              'gpt-4.1-nano-2025-04-14',
              'gpt-4.1-mini-2025-04-14',
              'gpt-5-nano-2025-08-07',
            ]),
          ),
          out,
        );
    const batchModel: ModelEntry = { name: bm.name, tprF: bm.tprF * r.uni(1, 4), outF: bm.outF };
    const trickle = r.chance(0.3);
    const sparse = {
      pDay: r.uni(0.45, 0.95),
      mean: r.uni(1, 5),
      clustered: r.chance(0.6),
      center: r.uni(8, 20),
      spread: r.uni(0.7, 3),
    };
    return {
      i,
      r,
      id,
      project: proj.id,
      tz,
      isNew,
      newBig,
      type,
      sub,
      L,
      tpr,
      sReq,
      nbK,
      sHour,
      out,
      cacheF,
      models,
      primary,
      ...curve,
      g,
      wanderSd,
      pOdd,
      nightly,
      weekly,
      batchModel,
      trickle,
      sparse,
      mult: new Float64Array(H).fill(1),
      bloat: new Float64Array(H).fill(1),
      off: new Float64Array(H).fill(1),
      extras: [],
      holidays: new Set(),
      busy: [],
      main: new Float64Array(H),
      batch: new Float64Array(H),
      newStart: 0,
    };
  });

  // holidays: public holidays of a key's time zone; sometimes a company day off for one or two projects
  const companyDays = new Map<string, string>();
  if (org.chance(0.6))
    for (let j = org.int(1, 2); j > 0; j--) {
      const d = org.int(8, WEEKS * 7 - 1);
      const day = new Date((START + d * 86400) * 1000);
      if (day.getUTCDay() % 6 !== 0)
        companyDays.set(defined(org.pick(projects)).id, day.toISOString().slice(0, 10));
    }
  const labels: IndependentLabel[] = [];
  const reserve = (k: Key, s: number, e: number): void => {
    k.busy.push([s, e]);
  };
  const isFree = (k: Key, s: number, e: number, gap = 24): boolean =>
    k.busy.every(([a, b]) => e + gap <= a || s >= b + gap);
  for (const k of keys) {
    if (!(k.type === 'business' || k.sub === 'business')) continue;
    const days = [...(HOLIDAYS[k.tz] ?? [])];
    const companyDay = companyDays.get(k.project);
    if (companyDay !== undefined) days.push(companyDay);
    const L = loc(k.tz);
    for (const d of days) {
      const hs: number[] = [];
      for (let h = 0; h < H; h++) if (L.date[h] === d) hs.push(h);
      const first = hs[0];
      const last = hs.at(-1);
      if (first === undefined || last === undefined || at(L.dow, first) % 6 === 0) continue;
      k.holidays.add(d);
      if (!k.isNew) {
        labels.push({
          project_id: k.project,
          api_key_id: k.id,
          start: START + first * 3600,
          end: START + (last + 1) * 3600,
          kind: 'holiday',
          ignore: true,
        });
        reserve(k, first, last + 1);
      }
    }
  }

  // ---------- normal (counterfactual) expected tokens per key and hour ----------
  for (const k of keys) {
    const r = k.r;
    const L = loc(k.tz);
    const nd = Math.ceil(H / 24) + 2;
    const w = [r.norm() * k.wanderSd];
    for (let d = 1; d < nd; d++) w.push(0.9 * at(w, d - 1) + k.wanderSd * r.norm());
    const sparseDay = new Map<string, Map<number, number>>();
    const runs = new Map<string, number>();
    let skipped = false;
    const jobs: Array<[Job, boolean]> = [];
    if (k.nightly) jobs.push([k.nightly, false]);
    if (k.weekly) jobs.push([k.weekly, true]);
    for (let h = 0; h < H; h++) {
      const d = Math.floor(h / 24);
      const wander = Math.exp(at(w, d) + ((at(w, d + 1) - at(w, d)) * (h % 24)) / 24);
      const lvl = k.L * Math.exp((k.g * h) / 168) * wander;
      const lh = at(L.hr, h);
      const dow = at(L.dow, h);
      const date = L.date[h] ?? '';
      const hol = k.holidays.has(date);
      let s = 0;
      const t = k.sub ?? k.type;
      if (t === 'business') s = businessShape(k, lh, dow, hol);
      else if (t === 'service')
        s =
          (1 + k.amp * Math.cos((2 * Math.PI * (lh - k.peak)) / 24)) * (dow === 0 || dow === 6 ? k.svcWk : 1);
      else if (t === 'sparse') {
        if (!sparseDay.has(date)) {
          // plan the local day's active hours
          const m = new Map<number, number>();
          const sp = k.sparse;
          if (r.chance(sp.pDay * (dow === 0 || dow === 6 ? 0.4 : 1)))
            for (let n = 1 + r.poisson(sp.mean - 1); n > 0; n--) {
              const hh = sp.clustered ? Math.round(sp.center + sp.spread * r.norm()) : r.int(0, 23);
              m.set(((hh % 24) + 24) % 24, (m.get(((hh % 24) + 24) % 24) ?? 0) + r.logu(0.3, 2.5));
            }
          sparseDay.set(date, m);
        }
        s = sparseDay.get(date)?.get(Math.floor(lh)) ?? 0;
      } else if (t === 'batch' && k.trickle) s = 0.02;
      else if (t === 'zero') s = r.chance(0.004) ? (k.tpr * r.int(1, 3)) / lvl : 0;
      if (t === 'zero' && k.i % 2 === 0) s = 0; // half the dormant keys never appear at all
      let v = lvl * s * Math.exp(k.sHour * r.norm() - k.sHour ** 2 / 2);
      if (r.chance(k.pOdd)) v *= r.uni(1.5, 3);
      else if (r.chance(k.pOdd / 2)) v *= r.uni(0.3, 0.7);
      k.main[h] = v;
      let b = 0;
      const gl = Math.exp((k.g * h) / 168);
      for (const [job, isWeekly] of jobs) {
        const JL = job.tz === 'UTC' ? UTCL : loc(job.tz);
        const jh = Math.floor(at(JL.hr, h));
        const jd = at(JL.dow, h);
        const rel = (jh - job.hour + 24) % 24;
        if (rel >= job.dur || (isWeekly && (jd - (jh < job.hour ? 1 : 0) + 7) % 7 !== job.dow)) continue;
        const run = `${isWeekly ? 'w' : 'n'}${Math.floor((h - rel) / 24)}`; // one draw per run
        let f = runs.get(run);
        if (f === undefined) {
          f = r.logu(0.8, 1.25);
          const runDow = (jd - (jh < job.hour ? 1 : 0) + 7) % 7;
          if (!isWeekly && job.weekdaysOnly && (runDow === 0 || runDow === 6)) f = 0;
          else if (!isWeekly && skipped) {
            f *= 1.8; // the rerun of a skipped night
            skipped = false;
          } else if (!isWeekly && r.chance(0.02)) {
            f = 0;
            skipped = true;
          }
          runs.set(run, f);
        }
        b += job.vol * gl * f * (rel === job.dur - 1 && job.dur > 1 ? 0.6 : 1);
      }
      k.batch[h] = b;
    }
    // a few keys change model mid-way (migration over 0-48 h, slightly different tokens per request)
    const old = k.primary;
    const successors = SUCCESSOR[old.name];
    if (k.type !== 'zero' && successors && r.chance(0.07)) {
      const hc = r.int(200, H - 100);
      const mig = r.int(0, 48);
      const nu: ModelUse = { ...modelEntry(r, defined(r.pick(successors)), k.out), w: 0, share: () => 0 };
      nu.tprF = old.tprF * r.uni(0.85, 1.4);
      nu.w = old.w;
      const p = (h: number): number => (mig ? clamp((h - hc) / mig, 0, 1) : +(h >= hc));
      old.share = (h) => old.w * (1 - p(h));
      nu.share = (h) => nu.w * p(h);
      const have = k.models.find((m) => m.name === nu.name);
      if (have) {
        const w0 = have.w;
        have.share = (h) => w0 + old.w * p(h);
      } else k.models.push(nu);
    }
  }
  const base = (k: Key, h: number): number => (at(k.main, h) + at(k.batch, h)) * at(k.off, h);

  // ---------- outages (drops then a return, sometimes with a catch-up burst) ----------
  for (let j = org.int(2, 4); j > 0; j--) {
    const p = defined(org.pick(projects));
    const pk = keys.filter((k) => k.project === p.id && !k.isNew);
    const affected = org.chance(0.5) || !pk.length ? pk : [defined(org.pick(pk))];
    const s = org.int(24, H - 40);
    const dur = Math.round(org.logu(2, 30));
    const f = org.uni(0, 0.05);
    const cu = org.chance(0.4) ? org.int(1, 3) : 0;
    const cf = org.uni(1.3, 2.2);
    for (const k of affected) {
      if (!isFree(k, s, s + dur + cu, 12)) continue;
      let had = 0;
      for (let h = s; h < s + dur; h++) had += base(k, h);
      for (let h = s; h < s + dur + cu && h < H; h++) k.off[h] = h < s + dur ? f : cf;
      if (had < 1) continue; // nothing to drop
      labels.push({
        project_id: k.project,
        api_key_id: k.id,
        start: START + s * 3600,
        end: START + Math.min(H, s + dur + cu) * 3600,
        kind: 'outage',
        ignore: true,
      });
      reserve(k, s, s + dur + cu);
    }
  }

  // ---------- incidents ----------
  const refLevel = (k: Key, s: number): number => {
    // typical level of the key's active hours over the week before s
    let mx = 0;
    for (let h = Math.max(0, s - 168); h < s; h++) mx = Math.max(mx, base(k, h));
    let sum = 0;
    let c = 0;
    for (let h = Math.max(0, s - 168); h < s; h++)
      if (base(k, h) > 0.05 * mx && mx > 0) {
        sum += base(k, h);
        c++;
      }
    return c ? sum / c : 0;
  };
  const plan = (
    kind: Exclude<IncidentKind, 'new_key'>,
    k: Key,
    s0: number,
    r: Rng,
  ): { ls: number; end: number; apply: () => void; peak: number } | null => {
    const ref = refLevel(k, s0);
    if (!(ref > 0)) return null;
    const ex = new Float64Array(H);
    let end: number;
    let apply: () => void;
    if (kind === 'step' || kind === 'ramp') {
      const f = new Float64Array(H).fill(1);
      const M = kind === 'step' ? r.uni(3, 5) : r.uni(5, 10);
      const R = r.int(3, 12);
      end = Math.min(H, s0 + (kind === 'step' ? (r.chance(0.2) ? H : r.int(24, 144)) : R + r.int(6, 60)));
      for (let h = s0; h < end; h++) {
        f[h] = kind === 'step' ? M : 1 + (M - 1) * Math.min(1, (h - s0 + 1) / R);
        ex[h] = (at(f, h) - 1) * base(k, h);
      }
      const until = end;
      apply = () => {
        for (let h = s0; h < until; h++) k.mult[h] = at(k.mult, h) * at(f, h);
      };
    } else if (kind === 'prompt_bloat') {
      const M = r.uni(5, 10);
      end = Math.min(H, s0 + Math.round(r.logu(3, 96)));
      for (let h = s0; h < end; h++) ex[h] = (M - 1) * base(k, h);
      const until = end;
      apply = () => {
        for (let h = s0; h < until; h++) k.bloat[h] = M;
      };
    } else {
      // runaway_loop / leaked_key: extra traffic on top, independent of the key's daily curve
      const loop = kind === 'runaway_loop';
      const M = loop ? r.logu(5, 40) : r.uni(4, 15);
      end = Math.min(H, s0 + (loop ? r.int(1, 6) : r.int(12, 72)));
      const other = !loop && r.chance(0.65);
      const name = other
        ? (r.pick(
            [
              'gpt-4o-2024-08-06',
              'gpt-4.1-2025-04-14',
              'gpt-5-2025-08-07',
              'gpt-4.1-mini-2025-04-14',
              'gpt-4o-mini-2024-07-18',
              'o4-mini-2025-04-16',
            ].filter((m) => !k.models.some((x) => x.name === m)),
          ) ?? k.primary.name)
        : k.primary.name;
      const x: Extra = {
        model: name,
        tpr: loop ? k.tpr * k.primary.tprF * r.uni(0.8, 2.5) : r.logu(600, 6000),
        outF: other ? r.uni(0.1, 0.5) : k.primary.outF,
        cacheF: loop ? k.cacheF : r.uni(0, 0.2),
        exp: new Float64Array(H),
      };
      const first = r.uni(0.25, 1);
      const growth = loop ? r.uni(0, 0.3) : 0;
      for (let h = s0; h < end; h++) {
        const on = loop || !r.chance(0.08); // leaked keys are sometimes quiet for an hour
        x.exp[h] = on
          ? (M - 1) * ref * (h === s0 ? first : 1) * (1 + growth * (h - s0)) * Math.exp(0.2 * r.norm())
          : 0;
        ex[h] = at(x.exp, h);
      }
      apply = () => k.extras.push(x);
    }
    // the effect exists from the first hour at least one extra request's worth of tokens is expected
    const one = k.tpr * k.primary.tprF;
    let ls = s0;
    while (ls < end && !(at(ex, ls) > 0 && at(ex, ls) >= one)) ls++;
    if (ls >= end || ls - s0 > 72) return null;
    let peak = 0;
    for (let h = ls; h < end; h++) peak = Math.max(peak, at(ex, h));
    return { ls, end, apply, peak };
  };
  for (const kind of kindList) {
    if (kind === 'new_key') continue;
    for (let tries = 0; tries < 200; tries++) {
      const k = defined(keys[org.int(0, NKEYS - 1)]);
      if (k.isNew || k.type === 'zero') continue;
      if (kind === 'ramp' && !(k.type === 'business' || k.type === 'service' || k.type === 'mixed')) continue; // a ramp needs continuous traffic
      let s0 = org.int(WARM, H - 8);
      if (kind === 'leaked_key' && org.chance(0.6)) {
        // often starts at night, local time
        const L = loc(k.tz);
        while (s0 < H - 8 && !(at(L.hr, s0) >= 22 || at(L.hr, s0) < 5)) s0++;
      }
      const p = plan(kind, k, s0, org);
      if (!p || !isFree(k, p.ls, p.end)) continue;
      p.apply();
      reserve(k, p.ls, p.end);
      const lab: IndependentLabel = {
        project_id: k.project,
        api_key_id: k.id,
        start: START + p.ls * 3600,
        end: START + p.end * 3600,
        kind,
      };
      if (p.peak < BIG) lab.ignore = true;
      labels.push(lab);
      break;
    }
  }
  // new keys: nothing before their first hour; the big ones start at >= 150k expected tokens/hour
  for (const k of keys) {
    if (!k.isNew) continue;
    let s = org.int(WARM + 6, H - 48);
    while (s < H - 24 && !(k.newBig ? base(k, s) >= 1.5e5 : base(k, s) > 0)) s++;
    for (let h = 0; h < s; h++) {
      k.main[h] = 0;
      k.batch[h] = 0;
    }
    k.newStart = s;
  }

  // ---------- usage: each key's hours in order, from the key's own random stream ----------
  const rowsAt = (k: Key, h: number): Sampled[] => {
    if (k.isNew && h < k.newStart) return [];
    const r = k.r;
    const m = at(k.mult, h) * at(k.off, h);
    const b = at(k.bloat, h);
    const main = at(k.main, h);
    const batch = at(k.batch, h);
    const rows: Array<Sampled | null> = [];
    if (main > 0)
      for (const md of k.models) {
        const sh = md.share(h);
        if (sh > 0) rows.push(sample(r, k, md.name, main * m * sh, k.tpr * md.tprF, b, md.outF, k.cacheF));
      }
    if (batch > 0)
      rows.push(
        sample(
          r,
          k,
          k.batchModel.name,
          batch * m,
          k.tpr * k.batchModel.tprF,
          b,
          k.batchModel.outF,
          k.cacheF * 0.5,
        ),
      );
    for (const x of k.extras)
      if (at(x.exp, h) > 0) rows.push(sample(r, k, x.model, at(x.exp, h), x.tpr, 1, x.outF, x.cacheF));
    const by = new Map<string, Sampled>();
    for (const x of rows) {
      if (!x) continue;
      const y = by.get(x.model);
      if (y) {
        y.n += x.n;
        y.inp += x.inp;
        y.cached += x.cached;
        y.out += x.out;
      } else by.set(x.model, x);
    }
    return [...by.values()];
  };
  const firstSeen = new Map<string, number>();
  const sortedKeys = [...keys].sort((a, b) => (a.project + a.id < b.project + b.id ? -1 : 1));
  const usage: UsageRow[][] = [];
  for (let h = 0; h < H; h++) {
    const rows: UsageRow[] = [];
    for (const k of sortedKeys)
      for (const x of rowsAt(k, h)) {
        if (!firstSeen.has(k.id)) firstSeen.set(k.id, h);
        rows.push({
          projectId: k.project,
          apiKeyId: k.id,
          model: x.model,
          inputTokens: x.inp,
          cachedInputTokens: x.cached,
          outputTokens: x.out,
          requests: x.n,
        });
      }
    usage.push(rows);
  }
  for (const k of keys) {
    // label at the first hour actually seen
    const s = firstSeen.get(k.id);
    if (!k.isNew || s === undefined) continue;
    let peak = 0;
    for (let h = s; h < Math.min(H, s + 24); h++) peak = Math.max(peak, base(k, h) * at(k.mult, h));
    const lab: IndependentLabel = {
      project_id: k.project,
      api_key_id: k.id,
      start: START + s * 3600,
      end: START + Math.min(H, s + 24) * 3600,
      kind: 'new_key',
    };
    if (peak < BIG) lab.ignore = true;
    labels.push(lab);
  }
  labels.sort((a, b) => a.start - b.start || (a.api_key_id < b.api_key_id ? -1 : 1));

  return {
    seed: SEED,
    start: START,
    hours: H,
    usageAt(hourStart) {
      const rows = usage[(hourStart - START) / HOUR_SECONDS];
      return rows ? rows.map((row) => ({ ...row })) : [];
    },
    labels: { start: START, hours: H, warmupHours: WARM, series: NKEYS, incidents: labels },
  };
}

/** The organization as usage API pages (bucket_width=1h, 24 buckets a page), one JSON line each. */
export function usagePageLines(org: IndependentOrg): string[] {
  const PER_PAGE = 24;
  const lines: string[] = [];
  for (let p = 0; p * PER_PAGE < org.hours; p++) {
    const data: Array<{ object: string; start_time: number; end_time: number; results: object[] }> = [];
    for (let h = p * PER_PAGE; h < Math.min(org.hours, (p + 1) * PER_PAGE); h++) {
      const start = org.start + h * HOUR_SECONDS;
      const results = org.usageAt(start).map((row) => ({
        object: 'organization.usage.completions.result',
        input_tokens: row.inputTokens,
        input_cached_tokens: row.cachedInputTokens,
        output_tokens: row.outputTokens,
        input_audio_tokens: 0,
        output_audio_tokens: 0,
        num_model_requests: row.requests,
        project_id: row.projectId,
        user_id: null,
        api_key_id: row.apiKeyId,
        model: row.model,
        batch: null,
        service_tier: null,
      }));
      data.push({ object: 'bucket', start_time: start, end_time: start + HOUR_SECONDS, results });
    }
    const more = (p + 1) * PER_PAGE < org.hours;
    const cursor = `${org.seed}:${org.start + (p + 1) * PER_PAGE * HOUR_SECONDS}`;
    lines.push(
      JSON.stringify({
        object: 'page',
        data,
        has_more: more,
        next_page: more ? `page_${Buffer.from(cursor).toString('base64url')}` : null,
      }),
    );
  }
  return lines;
}

/** Writes DIR/usage-pages.jsonl (what `backtest --input` reads) and DIR/labels.json (what score.mjs reads). */
export function writeIndependentOrganization(org: IndependentOrg, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'usage-pages.jsonl'), `${usagePageLines(org).join('\n')}\n`);
  writeFileSync(path.join(dir, 'labels.json'), `${JSON.stringify(org.labels, null, 1)}\n`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      keys: { type: 'string', default: '150' },
      weeks: { type: 'string', default: '5' },
      out: { type: 'string', default: 'out' },
    },
  });
  const org = independentOrganization({
    seed: Number(values.seed),
    keys: Number(values.keys),
    weeks: Number(values.weeks),
  });
  writeIndependentOrganization(org, values.out);
}
