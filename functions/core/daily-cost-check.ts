// Once a day, yesterday's estimated USD per project (tokens x the price table, summed over the hours
// evaluated) against what OpenAI billed (the Costs endpoint), logged as a ratio: a stale price table
// shows up as ratios drifting away from 1, before it skews alert severities for long.
import type { PriceLookup } from '../detection/model-price.ts';
import { estimateUsd } from '../detection/model-price.ts';
import { errorMessage } from './error-message.ts';
import type { RunLogger } from './run-scheduled-evaluation.ts';
import type { Deadline, UsageHour } from './usage.ts';

const DAY_SECONDS = 86_400;
/** Costs settle some hours after the day ends; check yesterday only from this hour (UTC) on. */
const CHECK_FROM_HOUR_UTC = 6;
/** Estimates outside this band of the bill mean the price table needs a look. */
const TOLERATED_RATIO: readonly [number, number] = [0.8, 1.25];

export interface DailyEstimatePort {
  read(day: number): Promise<{ hours: number[]; usdByProject: Record<string, number> }>;
  addHour(hour: number, usdByProject: ReadonlyMap<string, number>): Promise<void>;
  claimCheck(day: number): Promise<boolean>;
}

export interface BilledCostsPort {
  fetchDailyCosts(
    day: number,
    deadline: Deadline,
  ): Promise<{ usdByProject: Record<string, number>; totalUsd: number }>;
}

export interface ProjectCostComparison {
  projectId: string;
  estimatedUsd: number;
  billedUsd: number;
  /** estimated / billed; null when nothing was billed. */
  ratio: number | null;
}

export function estimatedUsdByProject(hour: UsageHour, price: PriceLookup): Map<string, number> {
  const usd = new Map<string, number>();
  for (const row of hour.rows) {
    usd.set(row.projectId, (usd.get(row.projectId) ?? 0) + estimateUsd(price(row.model), row));
  }
  return usd;
}

export function compareCosts(
  estimated: Record<string, number>,
  billed: Record<string, number>,
): ProjectCostComparison[] {
  const projects = new Set([...Object.keys(estimated), ...Object.keys(billed)]);
  return [...projects]
    .map((projectId) => {
      const estimatedUsd = estimated[projectId] ?? 0;
      const billedUsd = billed[projectId] ?? 0;
      return { projectId, estimatedUsd, billedUsd, ratio: billedUsd > 0 ? estimatedUsd / billedUsd : null };
    })
    .sort((a, b) => b.billedUsd - a.billedUsd);
}

export class DailyCostCheck {
  readonly #estimates: DailyEstimatePort;
  readonly #billed: BilledCostsPort;
  readonly #price: PriceLookup;
  readonly #logger: RunLogger;

  constructor(deps: {
    estimates: DailyEstimatePort;
    billed: BilledCostsPort;
    price: PriceLookup;
    logger: RunLogger;
  }) {
    this.#estimates = deps.estimates;
    this.#billed = deps.billed;
    this.#price = deps.price;
    this.#logger = deps.logger;
  }

  recordHour(hour: UsageHour): Promise<void> {
    return this.#estimates.addHour(hour.start, estimatedUsdByProject(hour, this.#price));
  }

  /** Compares yesterday once its costs have settled; at most once a day across runs. Never throws. */
  async checkOnceADay(now: number, deadline: Deadline): Promise<ProjectCostComparison[] | undefined> {
    const today = Math.floor(now / DAY_SECONDS) * DAY_SECONDS;
    if (now - today < CHECK_FROM_HOUR_UTC * 3600) return undefined;
    const yesterday = today - DAY_SECONDS;
    try {
      const estimate = await this.#estimates.read(yesterday);
      if (estimate.hours.length < 24) return undefined; // not all of it evaluated: nothing fair to compare
      if (!(await this.#estimates.claimCheck(yesterday))) return undefined;
      const billed = await this.#billed.fetchDailyCosts(yesterday, deadline);
      const comparison = compareCosts(estimate.usdByProject, billed.usdByProject);
      const estimatedTotal = comparison.reduce((sum, row) => sum + row.estimatedUsd, 0);
      const ratio = billed.totalUsd > 0 ? estimatedTotal / billed.totalUsd : null;
      const drifted = ratio !== null && (ratio < TOLERATED_RATIO[0] || ratio > TOLERATED_RATIO[1]);
      const summary = {
        day: new Date(yesterday * 1000).toISOString().slice(0, 10),
        estimatedUsd: round(estimatedTotal),
        billedUsd: round(billed.totalUsd),
        ratio: ratio === null ? null : round(ratio, 3),
        projects: comparison.slice(0, 20).map((row) => ({
          projectId: row.projectId,
          estimatedUsd: round(row.estimatedUsd),
          billedUsd: round(row.billedUsd),
          ratio: row.ratio === null ? null : round(row.ratio, 3),
        })),
      };
      if (drifted) {
        this.#logger.warn('Estimated cost is off the bill: check the price table (prices.models)', summary);
      } else {
        this.#logger.info('Estimated cost against the bill', summary);
      }
      return comparison;
    } catch (error) {
      this.#logger.warn('Daily cost check skipped', {
        error: errorMessage(error),
      });
      return undefined;
    }
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
