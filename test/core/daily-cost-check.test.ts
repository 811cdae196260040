import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import {
  compareCosts,
  DailyCostCheck,
  estimatedUsdByProject,
} from '../../functions/core/daily-cost-check.ts';
import type { RunLogger } from '../../functions/core/run-scheduled-evaluation.ts';
import type { UsageHour } from '../../functions/core/usage.ts';
import { priceLookup } from '../../functions/detection/model-price.ts';
import { DailyEstimateStore } from '../../functions/state/daily-estimate-store.ts';
import { useLocalDynamoDb } from '../support/local-dynamodb.ts';

const DAY = Date.UTC(2026, 10, 19) / 1000;
const price = priceLookup(parseConfig({}).prices);
const deadline = { atMs: Date.now() + 60_000 };

function hourOf(start: number, tokens: number): UsageHour {
  return {
    start,
    rows: [
      {
        projectId: 'proj_a',
        apiKeyId: 'key_1',
        model: 'gpt-4o-2024-08-06',
        inputTokens: tokens,
        cachedInputTokens: 0,
        outputTokens: 0,
        requests: 10,
      },
    ],
  };
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
  const logger: RunLogger = {
    info: (message, attributes) => lines.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => lines.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => lines.push({ level: 'error', message, attributes }),
  };
  return { logger, lines };
}

describe('estimates and comparison', () => {
  it('prices each row by its model: 1M gpt-4o input tokens is $2.50', () => {
    expect(estimatedUsdByProject(hourOf(DAY, 1_000_000), price).get('proj_a')).toBeCloseTo(2.5, 6);
  });

  it('compares per project, with no ratio where nothing was billed', () => {
    const rows = compareCosts({ a: 10, b: 1 }, { a: 8, c: 3 });
    expect(rows).toEqual([
      { projectId: 'a', estimatedUsd: 10, billedUsd: 8, ratio: 1.25 },
      { projectId: 'c', estimatedUsd: 0, billedUsd: 3, ratio: 0 },
      { projectId: 'b', estimatedUsd: 1, billedUsd: 0, ratio: null },
    ]);
  });
});

describe('daily cost check on dynalite', () => {
  const dynamo = useLocalDynamoDb();

  async function freshStore() {
    return new DailyEstimateStore(dynamo.client, await dynamo.freshTable('costs'));
  }

  it('adds each hour once, however often it is recorded', async () => {
    const store = await freshStore();
    await store.addHour(DAY, new Map([['proj_a', 1.5]]));
    await store.addHour(DAY, new Map([['proj_a', 1.5]]));
    await store.addHour(
      DAY + 3600,
      new Map([
        ['proj_a', 2],
        ['proj_b', 1],
      ]),
    );
    const estimate = await store.read(DAY);
    expect(estimate.hours).toEqual([DAY, DAY + 3600]);
    expect(estimate.usdByProject).toEqual({ proj_a: 3.5, proj_b: 1 });
  });

  it('lets one caller a day claim the check', async () => {
    const store = await freshStore();
    expect(await store.claimCheck(DAY)).toBe(true);
    expect(await store.claimCheck(DAY)).toBe(false);
    expect(await store.claimCheck(DAY + 86_400)).toBe(true);
  });

  it('logs yesterday against the bill once, after 06:00 UTC, and warns when the estimate drifts', async () => {
    const store = await freshStore();
    const { logger, lines } = recordingLogger();
    let fetched = 0;
    const check = new DailyCostCheck({
      estimates: store,
      billed: {
        fetchDailyCosts: async () => {
          fetched += 1;
          return { usdByProject: { proj_a: 30 }, totalUsd: 30 };
        },
      },
      price,
      logger,
    });
    // 24 hours of 0.4M gpt-4o input tokens: $1 an hour, $24 estimated against $30 billed.
    for (let h = 0; h < 24; h++) await check.recordHour(hourOf(DAY + h * 3600, 400_000));
    const nextDay = DAY + 86_400;
    expect(await check.checkOnceADay(nextDay + 3600, deadline)).toBeUndefined();
    const comparison = await check.checkOnceADay(nextDay + 7 * 3600, deadline);
    expect(comparison?.[0]).toMatchObject({ projectId: 'proj_a', billedUsd: 30 });
    expect(comparison?.[0]?.ratio).toBeCloseTo(0.8, 6);
    expect(await check.checkOnceADay(nextDay + 8 * 3600, deadline)).toBeUndefined();
    expect(fetched).toBe(1);
    expect(lines.map((l) => l.level)).toEqual(['info']);
    expect(lines[0]?.attributes).toMatchObject({
      day: '2026-11-19',
      estimatedUsd: 24,
      billedUsd: 30,
      ratio: 0.8,
    });
  });

  it('skips a day it did not see whole, and never throws', async () => {
    const store = await freshStore();
    const { logger, lines } = recordingLogger();
    const check = new DailyCostCheck({
      estimates: store,
      billed: {
        fetchDailyCosts: async () => {
          throw new Error('OpenAI usage API answered 403: no costs scope');
        },
      },
      price,
      logger,
    });
    await check.recordHour(hourOf(DAY, 100));
    expect(await check.checkOnceADay(DAY + 86_400 + 7 * 3600, deadline)).toBeUndefined();
    for (let h = 1; h < 24; h++) await check.recordHour(hourOf(DAY + h * 3600, 100));
    expect(await check.checkOnceADay(DAY + 86_400 + 7 * 3600, deadline)).toBeUndefined();
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'Daily cost check skipped',
        attributes: { error: 'OpenAI usage API answered 403: no costs scope' },
      },
    ]);
  });
});
