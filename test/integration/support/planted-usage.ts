// A simulated organization with one series added whose every hour the test knows: a steady key that
// runs away for chosen hours. The stand-in serves it like any other key, over real sockets.
import type { SimulatedOrg, SimulatedUsageRow } from '../../../functions/local/simulated-org.ts';

export const PLANTED_KEY_ID = 'key_PlantedRunaway0001';
export const PLANTED_KEY_NAME = 'planted-runaway-worker';
export const PLANTED_MODEL = 'gpt-4o-2024-08-06';
/** Input tokens of a normal hour, about; output is a quarter of it. */
export const PLANTED_BASE_TOKENS = 80_000;
export const PLANTED_SPIKE_FACTOR = 15;

export interface PlantedSeries {
  /** Whether the key runs away in the hour starting at `hourStart` (asked at each request). */
  isSpike(hourStart: number): boolean;
  /** When given, the key has no usage before this hour (a brand-new key); asked at each request. */
  firstHour?: () => number;
}

/** The org with the planted key added to its keys, its usage and its merged usage. */
export function withPlantedSeries(org: SimulatedOrg, planted: PlantedSeries): SimulatedOrg {
  const project = org.projects[0];
  if (!project) throw new Error('the simulated org has no project');
  const rowAt = (hourStart: number): SimulatedUsageRow | undefined => {
    if (planted.firstHour && hourStart < planted.firstHour()) return undefined;
    // Deterministic wobble of about 5 %, so the baseline has a spread to measure.
    const wobble = 1 + 0.05 * Math.sin(hourStart / 3600);
    const factor = planted.isSpike(hourStart) ? PLANTED_SPIKE_FACTOR : 1;
    const input = Math.round(PLANTED_BASE_TOKENS * wobble * factor);
    return {
      projectId: project.id,
      apiKeyId: PLANTED_KEY_ID,
      model: PLANTED_MODEL,
      inputTokens: input,
      cachedInputTokens: 0,
      outputTokens: Math.round(input / 4),
      requests: Math.round(input / 800),
      batch: false,
      userId: null,
      serviceTier: 'default',
    };
  };
  return {
    ...org,
    keys: [
      ...org.keys,
      {
        id: PLANTED_KEY_ID,
        projectId: project.id,
        name: PLANTED_KEY_NAME,
        redactedValue: 'sk-proj-****plnt',
        createdAt: org.start - 30 * 86_400,
        ownerUserId: null,
      },
    ],
    usageDetailAt: (hourStart) => {
      const row = rowAt(hourStart);
      return row ? [...org.usageDetailAt(hourStart), row] : org.usageDetailAt(hourStart);
    },
    usageAt: (hourStart) => {
      const row = rowAt(hourStart);
      return row ? [...org.usageAt(hourStart), row] : org.usageAt(hourStart);
    },
  };
}

/** The Monday 00:00 UTC at least `days` days before `nowSeconds`: a simulation start that covers now. */
export function mondayBefore(nowSeconds: number, days: number): number {
  const DAY = 86_400;
  let start = Math.floor((nowSeconds - days * DAY) / DAY) * DAY;
  while (new Date(start * 1000).getUTCDay() !== 1) start -= DAY;
  return start;
}
