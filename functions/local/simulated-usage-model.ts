// How one simulated series (an API key, or a project's key-less usage) behaves hour by hour: its shape
// (business hours, always on, sparse, batch jobs), growth, holidays, incidents and noise. Everything is a
// pure function of (profile, hour), so any hour can be computed alone and always comes out the same.
import type { UsageRow } from '../core/usage.ts';
import { normalAt, poissonFromUniform, uniformAt } from './simulated-random.ts';

export type MainPattern = 'business' | 'always_on' | 'sparse' | 'none';

export interface ModelMix {
  model: string;
  /** Share of the key's interactive tokens on this model. */
  share: number;
  promptPerRequest: number;
  outputPerRequest: number;
  /** Share of input tokens served from the prompt cache. */
  cachedShare: number;
}

/** A recurring job: nightly (every day) or weekly (one weekday), at a local hour, for some hours. */
export interface JobSchedule {
  every: 'day' | 'week';
  /** 0 = Monday (local time). */
  weekday: number;
  localHour: number;
  durationHours: number;
  /** Tokens an hour while it runs. */
  scale: number;
  /** Sent through the Batch API (the usage API's `batch: true`). */
  batchApi: boolean;
}

export type IncidentKind = 'runaway_loop' | 'leaked_key' | 'step' | 'ramp' | 'prompt_bloat' | 'new_key';
export type EventKind = IncidentKind | 'outage';

/** Something that happens to one series over hours [startHour, endHour) (indices from the org's start). */
export interface SeriesEvent {
  kind: EventKind;
  startHour: number;
  endHour: number;
  /** runaway/leaked/ramp: times the reference level; step: times normal; bloat: prompt size; outage: what is left. */
  multiplier: number;
  /** ramp: hours to reach the multiplier. */
  rampHours?: number;
  /** outage: the last hours of the event are a catch-up burst (work queued during the drop). */
  catchUpHours?: number;
  /** leaked_key: what the attacker runs, usually a model the key never used. */
  attackerModel?: ModelMix;
}

export interface SeriesProfile {
  /** Mixed with the seed: the stream every hourly draw of this series comes from. */
  noiseKey: number;
  projectId: string;
  apiKeyId: string | null;
  userId: string | null;
  main: MainPattern;
  /** Interactive tokens an hour at a weekday's peak. */
  scale: number;
  /** Standard-time UTC offset; summer time adds an hour where `daylightSaving` says. */
  tzOffsetHours: number;
  daylightSaving: DaylightSavingRule | undefined;
  region: number;
  /** business: share of the peak that runs at night. */
  nightFloor: number;
  /** Weekends (and holidays) run at this share of a weekday. */
  weekendFactor: number;
  sparseHoursPerDay: number;
  /** Organic growth, log-rate per week. */
  growthPerWeek: number;
  /** Hour-to-hour lognormal noise (larger for small keys) and a day-level wander. */
  noiseSigma: number;
  dailySigma: number;
  models: ModelMix[];
  job: JobSchedule | undefined;
  /** First hour (index from the org's start) with usage; keys made during the simulation start later. */
  activeFromHour: number;
  /** A normal new key grows into its scale over this many hours; 0: none. */
  rampHours: number;
  /** Usual tokens an hour (before growth; see typicalLevel): what additive incidents multiply. */
  meanLevel: number;
  events: SeriesEvent[];
}

export interface SimulatedUsageRow extends UsageRow {
  batch: boolean;
  userId: string | null;
  serviceTier: string;
}

/** Org-wide calendar facts a series needs. */
export interface SimulationCalendar {
  start: number;
  /** region -> local day numbers (floor(local seconds / 86400)) that are public holidays. */
  holidays: ReadonlyMap<number, ReadonlySet<number>>;
}

const HOUR = 3600;
const DAY = 86_400;
/** Mean of the business-hours bump over a whole day. */
const BUMP_DAILY_MEAN = 1 / Math.PI;

/** A smooth working-day curve: 0 before 07:30 and after 19:30 local, peaking at 13:30. */
function businessBump(localHourMid: number): number {
  if (localHourMid <= 7.5 || localHourMid >= 19.5) return 0;
  return Math.sin((Math.PI * (localHourMid - 7.5)) / 12);
}

/**
 * What "N times its usual usage" means for a series: its average hour for keys that work all day, and
 * an active hour for keys that only work now and then (sparse keys, pure batch jobs).
 */
export function typicalLevel(
  p: Pick<SeriesProfile, 'main' | 'scale' | 'nightFloor' | 'weekendFactor' | 'sparseHoursPerDay' | 'job'>,
): number {
  const weekShare = (5 + 2 * p.weekendFactor) / 7;
  if (p.main === 'sparse') return p.scale;
  if (p.main === 'none') return p.job?.scale ?? 0;
  const main =
    p.main === 'business'
      ? p.scale * (p.nightFloor + (1 - p.nightFloor) * BUMP_DAILY_MEAN) * weekShare
      : p.scale * (0.65 + 0.35 * BUMP_DAILY_MEAN) * weekShare;
  const job = p.job ? (p.job.scale * p.job.durationHours) / (p.job.every === 'day' ? 24 : 168) : 0;
  return main + job;
}

export interface Levels {
  /** Interactive tokens expected this hour. */
  main: number;
  /** Tokens of the recurring job this hour. */
  job: number;
  /** What additive incidents multiply: the normal level, or the typical one when that is higher. */
  reference: number;
}

/** Summer time as North America (second Sunday of March to first of November) or Europe keep it. */
export type DaylightSavingRule = 'north-america' | 'europe';

/** Midnight UTC of a month's `n`th Sunday (n = -1: the last). */
function sunday(year: number, month: number, n: number): number {
  if (n < 0) {
    const last = new Date(Date.UTC(year, month + 1, 0));
    return (last.getTime() - last.getUTCDay() * DAY * 1000) / 1000;
  }
  const first = new Date(Date.UTC(year, month, 1));
  return first.getTime() / 1000 + (((7 - first.getUTCDay()) % 7) + 7 * (n - 1)) * DAY;
}

/** The series' UTC offset at `t` (unix seconds), in hours, summer time included. */
export function utcOffsetAt(p: Pick<SeriesProfile, 'tzOffsetHours' | 'daylightSaving'>, t: number): number {
  if (!p.daylightSaving) return p.tzOffsetHours;
  const year = new Date(t * 1000).getUTCFullYear();
  // North America switches at 02:00 local time, Europe at 01:00 UTC everywhere.
  const [from, to] =
    p.daylightSaving === 'north-america'
      ? [
          sunday(year, 2, 2) + (2 - p.tzOffsetHours) * HOUR,
          sunday(year, 10, 1) + (1 - p.tzOffsetHours) * HOUR,
        ]
      : [sunday(year, 2, -1) + HOUR, sunday(year, 9, -1) + HOUR];
  return p.tzOffsetHours + (t >= from && t < to ? 1 : 0);
}

/** Expected (noise-free) tokens of the series in hour `h` with no incident. */
export function normalLevels(p: SeriesProfile, h: number, calendar: SimulationCalendar): Levels {
  if (h < p.activeFromHour) return { main: 0, job: 0, reference: 0 };
  const t = calendar.start + h * HOUR;
  const local = t + utcOffsetAt(p, t) * HOUR;
  const localDay = Math.floor(local / DAY);
  const localHour = Math.floor((local - localDay * DAY) / HOUR);
  const weekday = (((localDay + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Monday
  const offDay = weekday >= 5 || (calendar.holidays.get(p.region)?.has(localDay) ?? false);

  let main = 0;
  if (p.main === 'business') {
    const shape = p.nightFloor + (1 - p.nightFloor) * businessBump(localHour + 0.5);
    main = p.scale * shape * (offDay ? p.weekendFactor : 1);
  } else if (p.main === 'always_on') {
    main = p.scale * (0.65 + 0.35 * businessBump(localHour + 0.5)) * (offDay ? p.weekendFactor : 1);
  } else if (p.main === 'sparse') {
    main = sparseLevel(p, localDay, localHour, offDay);
  }

  let job = 0;
  if (p.job) {
    const sinceStart = (((localHour - p.job.localHour) % 24) + 24) % 24;
    const runDay = localHour >= p.job.localHour ? localDay : localDay - 1;
    const runWeekday = (((runDay + 3) % 7) + 7) % 7;
    const runs = sinceStart < p.job.durationHours && (p.job.every === 'day' || runWeekday === p.job.weekday);
    if (runs) job = p.job.scale * (0.85 + 0.3 * uniformAt(p.noiseKey, runDay, 11));
  }

  const growth = Math.exp((p.growthPerWeek * h) / 168);
  const ramp = p.rampHours > 0 ? Math.min(1, 0.02 + (0.98 * (h - p.activeFromHour)) / p.rampHours) : 1;
  const factor = growth * ramp;
  main *= factor;
  job *= factor;
  return { main, job, reference: Math.max(main + job, p.meanLevel * factor) };
}

/** A sparse key works a few (hashed) hours of each working day, now and then one on a day off. */
function sparseLevel(p: SeriesProfile, localDay: number, localHour: number, offDay: boolean): number {
  const hoursToday = offDay ? (uniformAt(p.noiseKey, localDay, 21) < 0.3 ? 1 : 0) : p.sparseHoursPerDay;
  for (let j = 0; j < hoursToday; j++) {
    const activeHour = 8 + Math.floor(11 * uniformAt(p.noiseKey, localDay, 22, j));
    if (activeHour === localHour)
      return p.scale * (0.4 + 1.2 * uniformAt(p.noiseKey, localDay, 23, localHour));
  }
  return 0;
}

export interface EventLevels extends Levels {
  /** Tokens of a leaked key's abuser, on the attacker's model. */
  attacker: number;
  attackerModel: ModelMix | undefined;
  /** Prompt size multiplier (prompt bloat). */
  bloat: number;
}

/** The hour's expected levels with the series' events applied. */
export function levelsWithEvents(p: SeriesProfile, h: number, normal: Levels): EventLevels {
  const out: EventLevels = { ...normal, attacker: 0, attackerModel: undefined, bloat: 1 };
  for (const e of p.events) {
    if (h < e.startHour || h >= e.endHour) continue;
    const ref = normal.reference;
    switch (e.kind) {
      case 'step':
        out.main *= e.multiplier;
        out.job *= e.multiplier;
        break;
      case 'runaway_loop':
        out.main += (e.multiplier - 1) * ref;
        break;
      case 'ramp': {
        const progress = Math.min(1, (h - e.startHour + 1) / (e.rampHours ?? 1));
        out.main += (e.multiplier - 1) * progress * ref;
        break;
      }
      case 'leaked_key':
        out.attacker += (e.multiplier - 1) * ref;
        out.attackerModel = e.attackerModel;
        break;
      case 'prompt_bloat':
        out.bloat = e.multiplier;
        break;
      case 'outage':
        if (h < e.endHour - (e.catchUpHours ?? 0)) {
          out.main *= e.multiplier;
          out.job *= e.multiplier;
        } else out.main += 0.6 * ref;
        break;
      case 'new_key':
        break;
    }
  }
  return out;
}

/** Share of the interactive tokens that are prompt (input) tokens. */
export function promptShare(models: readonly ModelMix[]): number {
  let share = 0;
  for (const m of models) share += (m.share * m.promptPerRequest) / (m.promptPerRequest + m.outputPerRequest);
  return share;
}

/** Expected total tokens in the hour with events, for labelling (excess = this minus the normal). */
export function expectedTokens(p: SeriesProfile, levels: EventLevels): number {
  const bloatExtra = (levels.bloat - 1) * (levels.main + levels.job) * promptShare(p.models);
  return levels.main + levels.job + levels.attacker + bloatExtra;
}

/** The usage rows of one series in hour `h`: one per model used, plus the job's and an attacker's. */
export function seriesRowsAt(
  p: SeriesProfile,
  h: number,
  calendar: SimulationCalendar,
  out: SimulatedUsageRow[],
): void {
  if (h < p.activeFromHour) return;
  const levels = levelsWithEvents(p, h, normalLevels(p, h, calendar));
  const day = Math.floor((calendar.start + h * HOUR) / DAY);
  const dayNoise = Math.exp(p.dailySigma * normalAt(p.noiseKey, day, 31) - (p.dailySigma * p.dailySigma) / 2);
  for (let i = 0; i < p.models.length; i++) {
    const mix = p.models[i] as ModelMix;
    emitRow(p, h, mix, levels.main * mix.share * dayNoise, levels.bloat, false, i, 0, out);
  }
  const jobMix = p.models[0];
  if (levels.job > 0 && p.job && jobMix) {
    emitRow(p, h, jobMix, levels.job * dayNoise, levels.bloat, p.job.batchApi, 0, 1, out);
  }
  if (levels.attacker > 0 && levels.attackerModel) {
    emitRow(p, h, levels.attackerModel, levels.attacker, 1, false, 9, 2, out);
  }
}

function emitRow(
  p: SeriesProfile,
  h: number,
  mix: ModelMix,
  meanTokens: number,
  bloat: number,
  batch: boolean,
  modelIndex: number,
  component: number,
  out: SimulatedUsageRow[],
): void {
  if (meanTokens <= 0) return;
  const k = p.noiseKey;
  const slot = modelIndex * 8 + component;
  const sigma = p.noiseSigma;
  const noise = Math.exp(sigma * normalAt(k, h, slot, 1) - (sigma * sigma) / 2);
  const perRequest = mix.promptPerRequest + mix.outputPerRequest;
  const requests = poissonFromUniform(
    (meanTokens * noise) / perRequest,
    uniformAt(k, h, slot, 2),
    normalAt(k, h, slot, 3),
  );
  if (requests === 0) return;
  const prompt = Math.round(requests * mix.promptPerRequest * Math.exp(0.06 * normalAt(k, h, slot, 4)));
  const cached = Math.min(
    prompt,
    Math.round(prompt * Math.min(0.95, mix.cachedShare * Math.exp(0.15 * normalAt(k, h, slot, 5)))),
  );
  const output = Math.round(requests * mix.outputPerRequest * Math.exp(0.1 * normalAt(k, h, slot, 6)));
  out.push({
    projectId: p.projectId,
    apiKeyId: p.apiKeyId,
    model: mix.model,
    // Bloated prompts are new text: the cached part stays what it was.
    inputTokens: Math.round(prompt * bloat),
    cachedInputTokens: cached,
    outputTokens: output,
    requests,
    batch,
    userId: p.userId,
    serviceTier: 'default',
  });
}
