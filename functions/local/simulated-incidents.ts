// Incidents (and outages) of the simulated organization: where they go, how big they are, and their
// labels in the format /work/shared/bench/score.mjs reads.
import type { SeededRandom } from './simulated-random.ts';
import {
  type EventKind,
  expectedTokens,
  type IncidentKind,
  levelsWithEvents,
  type ModelMix,
  normalLevels,
  type SeriesEvent,
  type SeriesProfile,
  type SimulatedUsageRow,
  type SimulationCalendar,
  seriesRowsAt,
} from './simulated-usage-model.ts';

/** An incident whose excess stays under this many tokens an hour is too small to page anyone about. */
export const MIN_EXCESS_TOKENS_PER_HOUR = 50_000;
/**
 * A key is new for its first hours of use in its first days, and material from this many tokens in an
 * hour: the product's own definition of a new key worth an alert (`newKeyMinTokens`).
 */
const NEW_KEY_MIN_TOKENS = 200_000;
const NEW_KEY_USED_HOURS = 3;
const NEW_KEY_DAYS_HOURS = 72;

export interface IncidentLabel {
  project_id: string;
  /** "null" (the string) for a project's key-less usage, as score.mjs keys series by `${api_key_id}`. */
  api_key_id: string;
  /** Unix seconds, the first hour of the incident; `end` is exclusive. */
  start: number;
  end: number;
  kind: EventKind;
  ignore?: true;
}

export interface UsageLabels {
  start: number;
  hours: number;
  /** Alerts in the first week are not scored (score.mjs). */
  warmupHours: number;
  /** How many (project, key) series the organization has. */
  series: number;
  incidents: IncidentLabel[];
}

export const INCIDENT_KINDS: readonly Exclude<IncidentKind, 'new_key'>[] = [
  'runaway_loop',
  'leaked_key',
  'step',
  'ramp',
  'prompt_bloat',
];
const INCIDENT_WEIGHTS = [0.24, 0.2, 0.16, 0.2, 0.2];

export interface PlacementWindow {
  hours: number;
  /** Incidents start after this hour index (the scorer's warm-up week) plus a margin. */
  warmupHours: number;
}

/** An hour index whose local time (in the series' zone) is `localHour` on day `day` of the simulation. */
export function hourAtLocal(p: SeriesProfile, day: number, localHour: number): number {
  return day * 24 + Math.round(localHour - p.tzOffsetHours);
}

function pickStart(
  rng: SeededRandom,
  p: SeriesProfile,
  window: PlacementWindow,
  localHours: readonly number[] | undefined,
  weekdaysOnly: boolean,
): number {
  const earliest = window.warmupHours + 6;
  const latest = window.hours - 4;
  if (!localHours) return rng.int(earliest, latest);
  for (let attempt = 0; attempt < 20; attempt++) {
    const day = rng.int(Math.floor(earliest / 24), Math.floor(latest / 24));
    if (weekdaysOnly && day % 7 >= 5) continue; // the simulation starts on a Monday
    const h = hourAtLocal(p, day, rng.pick(localHours));
    if (h >= earliest && h <= latest) return h;
  }
  return rng.int(earliest, latest);
}

const NIGHT = [0, 1, 2, 3, 4, 5];
const WORKING = [9, 10, 11, 12, 13, 14, 15, 16];

/** Draws one incident of `kind` for the series, or undefined when it does not fit beside its other events. */
export function drawIncident(
  rng: SeededRandom,
  p: SeriesProfile,
  kind: Exclude<IncidentKind, 'new_key'>,
  window: PlacementWindow,
  attackerModels: readonly ModelMix[],
): SeriesEvent | undefined {
  let event: SeriesEvent;
  switch (kind) {
    case 'runaway_loop': {
      const start = pickStart(rng, p, window, undefined, false);
      event = { kind, startHour: start, endHour: start + rng.int(1, 6), multiplier: rng.logBetween(5, 40) };
      break;
    }
    case 'leaked_key': {
      const start = pickStart(rng, p, window, rng.chance(0.65) ? NIGHT : undefined, false);
      const used = new Set(p.models.map((m) => m.model));
      const fresh = attackerModels.filter((m) => !used.has(m.model));
      event = {
        kind,
        startHour: start,
        endHour: start + rng.int(12, 72),
        multiplier: rng.between(4, 15),
        attackerModel: rng.pick(fresh.length ? fresh : attackerModels),
      };
      break;
    }
    case 'step': {
      const start = pickStart(rng, p, window, rng.chance(0.7) ? WORKING : undefined, true);
      event = { kind, startHour: start, endHour: start + rng.int(48, 144), multiplier: rng.between(3, 5) };
      break;
    }
    case 'ramp': {
      const start = pickStart(rng, p, window, undefined, false);
      event = {
        kind,
        startHour: start,
        endHour: start + rng.int(6, 36),
        multiplier: rng.between(5, 15),
        rampHours: rng.int(2, 5),
      };
      break;
    }
    case 'prompt_bloat': {
      const start = pickStart(rng, p, window, WORKING, true);
      event = { kind, startHour: start, endHour: start + rng.int(6, 72), multiplier: rng.between(5, 10) };
      break;
    }
  }
  event.endHour = Math.min(event.endHour, window.hours);
  return fitsBeside(p, event) ? event : undefined;
}

/** An outage: usage drops to a few percent for hours, then queued work catches up. */
export function drawOutage(
  rng: SeededRandom,
  p: SeriesProfile,
  window: PlacementWindow,
): SeriesEvent | undefined {
  const start = rng.int(48, window.hours - 16);
  const catchUpHours = rng.int(1, 2);
  const event: SeriesEvent = {
    kind: 'outage',
    startHour: start,
    endHour: Math.min(window.hours, start + rng.int(2, 12) + catchUpHours),
    multiplier: rng.between(0, 0.08),
    catchUpHours,
  };
  return fitsBeside(p, event) ? event : undefined;
}

/** Events of one series keep a day apart, so every label covers one cause. */
function fitsBeside(p: SeriesProfile, event: SeriesEvent): boolean {
  if (event.endHour <= event.startHour) return false;
  return p.events.every((e) => event.endHour + 24 <= e.startHour || e.endHour + 24 <= event.startHour);
}

/** The label of an event, `ignore` when it is a drop or its excess never reaches 50,000 tokens an hour. */
export function labelEvent(
  p: SeriesProfile,
  event: SeriesEvent,
  calendar: SimulationCalendar,
): IncidentLabel {
  const label: IncidentLabel = {
    project_id: p.projectId,
    api_key_id: String(p.apiKeyId),
    start: calendar.start + event.startHour * 3600,
    end: calendar.start + event.endHour * 3600,
    kind: event.kind,
  };
  if (event.kind === 'outage' || maxExcessPerHour(p, event, calendar) < MIN_EXCESS_TOKENS_PER_HOUR) {
    label.ignore = true;
  }
  return label;
}

/** The largest expected (noise-free) excess over the normal level in any hour of the event. */
export function maxExcessPerHour(p: SeriesProfile, event: SeriesEvent, calendar: SimulationCalendar): number {
  return Math.max(0, ...excessByHour(p, event, calendar));
}

/** Expected excess tokens in each hour of the event, over what the series would have done without it. */
function excessByHour(p: SeriesProfile, event: SeriesEvent, calendar: SimulationCalendar): number[] {
  const alone: SeriesProfile = { ...p, events: [event] };
  const excess: number[] = [];
  for (let h = event.startHour; h < event.endHour; h++) {
    const normal = normalLevels(alone, h, calendar);
    // A new key has no history: all its usage is excess.
    const baseline = event.kind === 'new_key' ? 0 : normal.main + normal.job;
    excess.push(expectedTokens(alone, levelsWithEvents(alone, h, normal)) - baseline);
  }
  return excess;
}

/**
 * Moves an incident's start to its first hour that shows: prompt bloat on a key idle until the morning,
 * or a step that begins at night, is only visible (and only catchable) once the key works, and a ramp's
 * first hours stay under the floor. (A ramp's usage keeps its own start: see simulated-org.ts.)
 */
export function startWhenVisible(
  p: SeriesProfile,
  event: SeriesEvent,
  calendar: SimulationCalendar,
): SeriesEvent {
  const excess = excessByHour(p, event, calendar);
  const threshold = Math.min(MIN_EXCESS_TOKENS_PER_HOUR, 0.5 * Math.max(0, ...excess));
  const first = excess.findIndex((x) => x > 0 && x >= threshold);
  return first <= 0 ? event : { ...event, startHour: event.startHour + first };
}

/**
 * An incident's label starts at its first hour with any usage: on a key that stays idle after the cause
 * (prompt bloat deployed, a step begun before a quiet spell), nothing shows, to a detector or to a person
 * reading the usage, until the key makes a call. Undefined when the key makes none while the event lasts
 * (a sparse key whose sessions come to less than one request). `p` already carries the event.
 */
export function startWhenSeen(
  p: SeriesProfile,
  event: SeriesEvent,
  calendar: SimulationCalendar,
): SeriesEvent | undefined {
  for (let h = event.startHour; h < event.endHour; h++) {
    if (tokensAt(p, h, calendar) > 0) return h === event.startHour ? event : { ...event, startHour: h };
  }
  return undefined;
}

/** A series' tokens in hour `h` as its usage rows realise them (noise included). */
function tokensAt(p: SeriesProfile, h: number, calendar: SimulationCalendar): number {
  const rows: SimulatedUsageRow[] = [];
  seriesRowsAt(p, h, calendar, rows);
  return rows.reduce((sum, r) => sum + r.inputTokens + r.outputTokens, 0);
}

export function pickIncidentKind(rng: SeededRandom): Exclude<IncidentKind, 'new_key'> {
  return rng.weighted(INCIDENT_KINDS, INCIDENT_WEIGHTS);
}

/**
 * The label of a key meant to start small and grow whose first hours of use are material all the same
 * (its weekly job's first run, or a sparse key's first burst, comes once it has grown): a new key with
 * material usage, as the product defines one. Undefined when the key does start small.
 */
export function growingKeyLabel(
  p: SeriesProfile,
  calendar: SimulationCalendar,
  window: PlacementWindow,
): IncidentLabel | undefined {
  let firstUsed: number | undefined;
  let used = 0;
  for (let h = Math.max(0, p.activeFromHour); h < window.hours && used < NEW_KEY_USED_HOURS; h++) {
    const tokens = tokensAt(p, h, calendar);
    if (tokens <= 0) continue;
    firstUsed ??= h;
    if (h - firstUsed >= NEW_KEY_DAYS_HOURS) return undefined;
    used += 1;
    if (tokens >= NEW_KEY_MIN_TOKENS) {
      // In the warm-up week the scorer counts nothing (and a first run only primes).
      if (h < window.warmupHours) return undefined;
      const start = calendar.start + h * 3600;
      const end = start + 24 * 3600;
      return { project_id: p.projectId, api_key_id: String(p.apiKeyId), start, end, kind: 'new_key' };
    }
  }
  return undefined;
}
