// A simulated OpenAI organization, deterministic for a seed: projects, API keys and their hourly usage,
// shaped like real organizations (see /work/shared/bench/README.md, "Organizations like real ones"),
// with labelled incidents for the detection benchmark. Served by the usage API stand-in and the demo.
import { alignToHour, HOUR_SECONDS, type UsageRow } from '../core/usage.ts';
import {
  drawIncident,
  drawOutage,
  growingKeyLabel,
  type IncidentLabel,
  labelEvent,
  pickIncidentKind,
  startWhenSeen,
  startWhenVisible,
  type UsageLabels,
} from './simulated-incidents.ts';
import { hashInts, SeededRandom } from './simulated-random.ts';
import {
  type DaylightSavingRule,
  type JobSchedule,
  type MainPattern,
  type ModelMix,
  type SeriesProfile,
  type SimulatedUsageRow,
  type SimulationCalendar,
  seriesRowsAt,
  typicalLevel,
} from './simulated-usage-model.ts';

export type { IncidentLabel, UsageLabels } from './simulated-incidents.ts';
export type { SimulatedUsageRow } from './simulated-usage-model.ts';

export interface SimulateOrganizationOptions {
  seed: number;
  /** API keys, all projects together. Default 150. */
  keys?: number;
  /** Default: one per eight keys. */
  projects?: number;
  /** Default 5; the first week is the scorer's warm-up and has no incidents. */
  weeks?: number;
  /** Unix seconds of a Monday 00:00 UTC. Default 2025-10-13 (the real-world set's start). */
  start?: number;
  /**
   * Labelled incidents (runaways, leaks, steps, ...). Outages and holidays happen either way, and so do
   * keys that are new and grow, labelled when their first hours of use are material all the same.
   */
  incidents?: boolean;
}

export interface SimulatedProject {
  id: string;
  name: string;
  createdAt: number;
}

export interface SimulatedKey {
  id: string;
  projectId: string;
  name: string;
  /** As the API shows it: "sk-proj-****abcd". */
  redactedValue: string;
  createdAt: number;
  /** The owning user, or null for a service account's key. */
  ownerUserId: string | null;
}

export interface SimulatedOrg {
  seed: number;
  /** Unix seconds (a Monday 00:00 UTC) and length of the labelled period. */
  start: number;
  hours: number;
  end: number;
  projects: SimulatedProject[];
  keys: SimulatedKey[];
  /** Rows per (project, key, model) of the hour starting at `hourStart`; the same hour always gives the same rows. */
  usageAt(hourStart: number): UsageRow[];
  /** The same usage split by batch and with each key's owner: what the stand-in groups and filters. */
  usageDetailAt(hourStart: number): SimulatedUsageRow[];
  labels: UsageLabels;
}

export const DEFAULT_SIMULATION_START = Date.UTC(2025, 9, 13) / 1000; // Monday 2025-10-13 00:00 UTC
const WARMUP_HOURS = 168;

/** Token mixes per model: prompt and output tokens per request, and the cached share of the prompt. */
const MODEL_CATALOGUE: ReadonlyArray<{
  model: string;
  prompt: [number, number];
  output: [number, number];
  cached: [number, number];
}> = [
  { model: 'gpt-4o-mini-2024-07-18', prompt: [300, 3000], output: [60, 600], cached: [0, 0.5] },
  { model: 'gpt-4.1-mini-2025-04-14', prompt: [500, 6000], output: [80, 800], cached: [0.1, 0.6] },
  { model: 'gpt-4.1-2025-04-14', prompt: [800, 8000], output: [100, 1200], cached: [0.1, 0.7] },
  { model: 'gpt-5-mini-2025-08-07', prompt: [600, 8000], output: [300, 2500], cached: [0.2, 0.7] },
  { model: 'gpt-5-2025-08-07', prompt: [1000, 12000], output: [400, 3000], cached: [0.2, 0.8] },
  { model: 'gpt-5-nano-2025-08-07', prompt: [200, 2000], output: [50, 500], cached: [0, 0.3] },
  { model: 'o4-mini-2025-04-16', prompt: [500, 5000], output: [500, 4000], cached: [0, 0.5] },
  { model: 'gpt-4o-2024-08-06', prompt: [500, 6000], output: [100, 1000], cached: [0, 0.5] },
];
const MODEL_WEIGHTS = [0.24, 0.14, 0.14, 0.16, 0.1, 0.08, 0.07, 0.07];

/** UTC offsets (standard time) of the regions keys work in, their summer time, and how common each is. */
const REGIONS = [-8, -5, 0, 1, 5.5, 8, 9];
const REGION_DAYLIGHT_SAVING: Array<DaylightSavingRule | undefined> = [
  'north-america',
  'north-america',
  'europe',
  'europe',
  undefined,
  undefined,
  undefined,
];
const REGION_WEIGHTS = [0.25, 0.25, 0.1, 0.15, 0.1, 0.08, 0.07];

const PROJECT_NAMES = [
  'checkout',
  'search',
  'support-bot',
  'analytics',
  'content-studio',
  'internal-tools',
  'data-pipeline',
  'mobile-app',
  'sales-assistant',
  'docs-qa',
  'translation',
  'fraud-review',
  'marketing',
  'recommendations',
  'ml-platform',
  'billing',
  'onboarding',
  'research',
];
const KEY_NAMES: Record<MainPattern, readonly string[]> = {
  business: ['web-app', 'chat-frontend', 'support-agent', 'api-gateway', 'mobile-backend', 'copilot'],
  always_on: ['prod-backend', 'ingest-worker', 'classifier', 'router', 'moderation'],
  sparse: ['notebook', 'evals', 'ci-tests', 'dev-laptop', 'prototype', 'staging'],
  none: ['nightly-etl', 'batch-worker', 'weekly-report', 'embeddings-sync', 'cron'],
};

export function simulateOrganization(options: SimulateOrganizationOptions): SimulatedOrg {
  const seed = options.seed | 0;
  const keyCount = Math.max(1, Math.floor(options.keys ?? 150));
  const projectCount = Math.max(1, Math.floor(options.projects ?? Math.max(1, Math.round(keyCount / 8))));
  const weeks = Math.max(1, Math.floor(options.weeks ?? 5));
  const start = options.start ?? DEFAULT_SIMULATION_START;
  if (start % 86_400 !== 0 || new Date(start * 1000).getUTCDay() !== 1) {
    throw new Error('simulateOrganization: start must be a Monday 00:00 UTC (unix seconds)');
  }
  const hours = weeks * 168;
  // Incidents need room after the warm-up week to start and to be seen.
  const withIncidents = (options.incidents ?? true) && hours >= WARMUP_HOURS + 48;
  const window = { hours, warmupHours: WARMUP_HOURS };

  const orgRandom = new SeededRandom(hashInts(seed, 1));
  const holidays = drawHolidays(orgRandom, start, weeks);
  const calendar: SimulationCalendar = { start, holidays };

  const projects: SimulatedProject[] = [];
  const projectRegion: number[] = [];
  const usedProjectNames = new Map<string, number>();
  for (let i = 0; i < projectCount; i++) {
    const base = orgRandom.pick(PROJECT_NAMES);
    const n = (usedProjectNames.get(base) ?? 0) + 1;
    usedProjectNames.set(base, n);
    projects.push({
      id: `proj_${orgRandom.alnum(24)}`,
      name: n === 1 ? base : `${base}-${n}`,
      createdAt: start - orgRandom.int(30, 900) * 86_400,
    });
    projectRegion.push(
      orgRandom.weighted(
        REGIONS.map((_, r) => r),
        REGION_WEIGHTS,
      ),
    );
  }
  const users = Array.from(
    { length: Math.max(1, Math.ceil(keyCount / 3)) },
    () => `user-${orgRandom.alnum(24)}`,
  );

  // Which keys are new during the simulation: a few that start large (labelled), a few that grow in.
  const newLargeKeys = withIncidents ? Math.max(1, Math.round(keyCount * 0.03)) : 0;
  const newGrowingKeys = Math.round(keyCount * 0.05);

  const keys: SimulatedKey[] = [];
  const profiles: SeriesProfile[] = [];
  const labels: IncidentLabel[] = [];
  const keyNameCounts = new Map<string, number>();
  for (let i = 0; i < keyCount; i++) {
    const rng = new SeededRandom(hashInts(seed, 2, i));
    const projectIndex = i < projectCount ? i : Math.floor(projectCount * rng.next() ** 1.6);
    const project = projects[projectIndex] as SimulatedProject;
    const role: KeyRole =
      i >= keyCount - newLargeKeys
        ? 'new_large'
        : i >= keyCount - newLargeKeys - newGrowingKeys
          ? 'new_growing'
          : 'existing';
    const profile = drawProfile(rng, {
      noiseKey: hashInts(seed, 3, i),
      projectId: project.id,
      apiKeyId: `key_${rng.alnum(16)}`,
      userId: rng.chance(0.7) ? rng.pick(users) : null,
      region: rng.chance(0.8)
        ? (projectRegion[projectIndex] ?? 0)
        : rng.weighted(
            REGIONS.map((_, r) => r),
            REGION_WEIGHTS,
          ),
      role,
      hours,
    });
    const createdAt =
      role === 'existing'
        ? start - rng.int(7 * 86_400, 400 * 86_400)
        : start + profile.activeFromHour * HOUR_SECONDS - rng.int(0, 7200);
    const base = rng.pick(KEY_NAMES[profile.main]);
    const nameKey = `${project.id}/${base}`;
    const n = (keyNameCounts.get(nameKey) ?? 0) + 1;
    keyNameCounts.set(nameKey, n);
    keys.push({
      id: profile.apiKeyId as string,
      projectId: project.id,
      name: n === 1 ? base : `${base}-${n}`,
      redactedValue: `sk-proj-****${rng.alnum(4)}`,
      createdAt: Math.max(createdAt, project.createdAt),
      ownerUserId: profile.userId,
    });

    if (role === 'new_large') {
      const event = {
        kind: 'new_key' as const,
        startHour: profile.activeFromHour,
        endHour: Math.min(hours, profile.activeFromHour + 24),
        multiplier: 1,
      };
      profile.events.push(event);
      labels.push(labelEvent(profile, event, calendar));
    } else if (role === 'existing') {
      if (rng.chance(0.06)) {
        const outage = drawOutage(rng, profile, window);
        if (outage) {
          profile.events.push(outage);
          labels.push(labelEvent(profile, outage, calendar));
        }
      }
      const incidentCount = withIncidents ? (rng.chance(0.24) ? (rng.chance(0.15) ? 2 : 1) : 0) : 0;
      for (let k = 0; k < incidentCount; k++) {
        const drawn = drawIncident(rng, profile, pickIncidentKind(rng), window, attackerMixes(rng));
        if (!drawn) continue;
        // The label starts at the first hour that shows. A ramp keeps climbing from where it began (moved,
        // it would begin its climb again there, under the floor); the other kinds start there.
        const visible = startWhenVisible(profile, drawn, calendar);
        profile.events.push(drawn.kind === 'ramp' ? drawn : visible);
        const seen = startWhenSeen(profile, visible, calendar);
        const label = labelEvent(profile, seen ?? visible, calendar);
        // The key made no call while it lasted: there was nothing to see, for a detector or a person.
        if (!seen) label.ignore = true;
        labels.push(label);
      }
    }
    profiles.push(profile);
    if (role === 'new_growing') {
      const label = growingKeyLabel(profile, calendar, window);
      if (label) labels.push(label);
    }
  }

  // Some projects also have key-less usage (the playground): one more series each, small and sparse.
  for (let j = 0; j < projectCount; j++) {
    const rng = new SeededRandom(hashInts(seed, 4, j));
    if (!rng.chance(0.3)) continue;
    const profile = drawProfile(rng, {
      noiseKey: hashInts(seed, 5, j),
      projectId: (projects[j] as SimulatedProject).id,
      apiKeyId: null,
      userId: null,
      region: projectRegion[j] ?? 0,
      role: 'playground',
      hours,
    });
    profiles.push(profile);
  }

  labels.sort((a, b) => a.start - b.start || a.api_key_id.localeCompare(b.api_key_id));

  const usageDetailAt = (hourStart: number): SimulatedUsageRow[] => {
    const h = (alignToHour(hourStart) - start) / HOUR_SECONDS;
    const rows: SimulatedUsageRow[] = [];
    for (const profile of profiles) seriesRowsAt(profile, h, calendar, rows);
    return rows;
  };

  return {
    seed,
    start,
    hours,
    end: start + hours * HOUR_SECONDS,
    projects,
    keys,
    usageDetailAt,
    usageAt: (hourStart) => mergeByModel(usageDetailAt(hourStart)),
    labels: { start, hours, warmupHours: WARMUP_HOURS, series: profiles.length, incidents: labels },
  };
}

type KeyRole = 'existing' | 'new_growing' | 'new_large' | 'playground';

interface ProfileSeed {
  noiseKey: number;
  projectId: string;
  apiKeyId: string | null;
  userId: string | null;
  region: number;
  role: KeyRole;
  hours: number;
}

function drawProfile(rng: SeededRandom, s: ProfileSeed): SeriesProfile {
  let main: MainPattern;
  let scale: number;
  if (s.role === 'playground') {
    main = 'sparse';
    scale = rng.logBetween(2_000, 40_000);
  } else if (s.role === 'new_large') {
    main = rng.chance(0.5) ? 'business' : 'always_on';
    scale = rng.logBetween(300_000, 20_000_000);
  } else {
    main = rng.weighted<MainPattern>(['business', 'always_on', 'sparse', 'none'], [0.35, 0.2, 0.3, 0.15]);
    // A few hundred to tens of millions of tokens an hour, every order of magnitude alike.
    scale = rng.logBetween(300, 30_000_000);
    if (s.role === 'new_growing') scale = Math.min(scale, 2_000_000);
  }

  let job: JobSchedule | undefined;
  if (main === 'none' || ((main === 'business' || main === 'always_on') && rng.chance(0.25))) {
    const weekly = rng.chance(main === 'none' ? 0.3 : 0.2);
    job = {
      every: weekly ? 'week' : 'day',
      weekday: rng.pick([5, 6, 0]),
      localHour: rng.int(0, 5),
      durationHours: weekly ? rng.int(2, 8) : rng.int(1, 4),
      scale: main === 'none' ? scale : scale * rng.between(1, 6),
      batchApi: rng.chance(0.5),
    };
  }

  const modelCount = main === 'sparse' ? rng.int(1, 2) : rng.int(1, 3);
  const models = drawModels(rng, s.role === 'playground' ? 1 : modelCount);
  const smallness = Math.min(1, Math.max(0, (7 - Math.log10(scale)) / 4));
  const shape = {
    main,
    scale,
    nightFloor: rng.between(0.03, 0.3),
    weekendFactor: main === 'always_on' ? rng.between(0.75, 1) : rng.between(0.08, 0.6),
    sparseHoursPerDay: rng.int(1, 4),
    job,
  };

  let activeFromHour = Number.NEGATIVE_INFINITY;
  let rampHours = 0;
  if (s.role === 'new_growing') {
    activeFromHour = rng.int(24, s.hours - 48);
    rampHours = rng.int(72, 168);
  } else if (s.role === 'new_large') {
    // Starts in its own working hours, after the warm-up week.
    const tz = REGIONS[s.region] ?? 0;
    const day = rng.int(8, Math.max(8, Math.floor(s.hours / 24) - 2));
    activeFromHour = Math.min(s.hours - 24, day * 24 + Math.round(rng.int(9, 15) - tz));
  }

  return {
    noiseKey: s.noiseKey,
    projectId: s.projectId,
    apiKeyId: s.apiKeyId,
    userId: s.userId,
    ...shape,
    tzOffsetHours: REGIONS[s.region] ?? 0,
    daylightSaving: REGION_DAYLIGHT_SAVING[s.region],
    region: s.region,
    growthPerWeek: rng.between(-0.03, 0.08),
    noiseSigma: 0.06 + 0.14 * smallness + rng.between(0, 0.08),
    dailySigma: rng.between(0.03, 0.1),
    models,
    activeFromHour,
    rampHours,
    meanLevel: typicalLevel(shape),
    events: [],
  };
}

function drawModels(rng: SeededRandom, count: number): ModelMix[] {
  const chosen: ModelMix[] = [];
  const used = new Set<string>();
  for (let guard = 0; chosen.length < count && guard < 20; guard++) {
    const mix = drawMix(rng, rng.weighted(MODEL_CATALOGUE, MODEL_WEIGHTS));
    if (used.has(mix.model)) continue;
    used.add(mix.model);
    chosen.push(mix);
  }
  // Shares: one main model, the others smaller.
  const weights = chosen.map((_, i) => (i === 0 ? rng.between(0.5, 1) : rng.between(0.05, 0.4)));
  const total = weights.reduce((a, b) => a + b, 0);
  chosen.forEach((mix, i) => {
    mix.share = (weights[i] ?? 0) / total;
  });
  return chosen;
}

function drawMix(rng: SeededRandom, entry: (typeof MODEL_CATALOGUE)[number]): ModelMix {
  return {
    model: entry.model,
    share: 1,
    promptPerRequest: Math.round(rng.logBetween(...entry.prompt)),
    outputPerRequest: Math.round(rng.logBetween(...entry.output)),
    cachedShare: rng.between(...entry.cached),
  };
}

/** What a leaked key's abuser runs: expensive models, long outputs. */
function attackerMixes(rng: SeededRandom): ModelMix[] {
  return ['gpt-4o-2024-08-06', 'gpt-5-2025-08-07', 'o4-mini-2025-04-16', 'gpt-4.1-2025-04-14'].map(
    (model) => ({
      model,
      share: 1,
      promptPerRequest: rng.int(800, 4000),
      outputPerRequest: rng.int(800, 3000),
      cachedShare: 0,
    }),
  );
}

/** Public holidays: most regions get a weekday off somewhere after the first week. */
function drawHolidays(rng: SeededRandom, start: number, weeks: number): Map<number, Set<number>> {
  const holidays = new Map<number, Set<number>>();
  if (weeks < 2) return holidays;
  const firstDay = start / 86_400;
  REGIONS.forEach((_, region) => {
    if (!rng.chance(0.7)) return;
    const day = firstDay + rng.int(1, weeks - 1) * 7 + rng.int(0, 4);
    const days = new Set([day]);
    if (rng.chance(0.2)) days.add(day + 1);
    holidays.set(region, days);
  });
  return holidays;
}

function mergeByModel(rows: readonly SimulatedUsageRow[]): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const row of rows) {
    const key = `${row.projectId}\u0000${row.apiKeyId}\u0000${row.model}`;
    const seen = merged.get(key);
    if (seen) {
      seen.inputTokens += row.inputTokens;
      seen.cachedInputTokens += row.cachedInputTokens;
      seen.outputTokens += row.outputTokens;
      seen.requests += row.requests;
    } else {
      merged.set(key, {
        projectId: row.projectId,
        apiKeyId: row.apiKeyId,
        model: row.model,
        inputTokens: row.inputTokens,
        cachedInputTokens: row.cachedInputTokens,
        outputTokens: row.outputTokens,
        requests: row.requests,
      });
    }
  }
  return [...merged.values()];
}
