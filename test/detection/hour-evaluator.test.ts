import { type DynamoDBClient, ScanCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SentinelConfigInput } from '../../functions/config/config-schema.ts';
import { parseConfig } from '../../functions/config/parse-config.ts';
import type { Alert } from '../../functions/core/alert.ts';
import type { UsageHour, UsageRow } from '../../functions/core/usage.ts';
import { HourEvaluator } from '../../functions/detection/hour-evaluator.ts';
import {
  type EmbeddedDynamoDb,
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { OpenIncidentsIndex } from '../../functions/state/open-incidents-index.ts';
import { HOUR, rng, START } from './series-fixtures.ts';

let db: EmbeddedDynamoDb;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  db = await startEmbeddedDynamoDb();
  client = localDynamoDbClient(db.endpoint);
});
afterAll(async () => {
  client.destroy();
  await db.stop();
});

async function freshEvaluator(
  config: SentinelConfigInput = {},
): Promise<{ evaluator: HourEvaluator; table: string }> {
  const table = `state-${++tables}`;
  await ensureStateTable(client, table);
  // dynalite answers "not found" until a new table is ACTIVE.
  await waitUntilTableExists(
    { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: table },
  );
  return { evaluator: new HourEvaluator({ client, tableName: table, config: parseConfig(config) }), table };
}

const row = (projectId: string, apiKeyId: string | null, tokens: number, model = 'gpt-4o'): UsageRow => ({
  projectId,
  apiKeyId,
  model,
  inputTokens: Math.round(tokens * 0.7),
  cachedInputTokens: Math.round(tokens * 0.1),
  outputTokens: tokens - Math.round(tokens * 0.7),
  requests: Math.max(1, Math.round(tokens / 1500)),
});

/** Three series: a steady key that spikes for 5 hours at `spikeAt` then goes silent, a business-hours key,
 * and a project's key-less usage split over two models. */
function organization(hours: number, spikeAt: number, seed = 1): UsageHour[] {
  const r = rng(seed);
  const out: UsageHour[] = [];
  for (let i = 0; i < hours; i++) {
    const rows: UsageRow[] = [];
    const noisy = (x: number) => Math.round(x * (0.9 + 0.2 * r()));
    if (i < spikeAt) rows.push(row('proj_a', 'key_steady', noisy(1_000_000)));
    else if (i < spikeAt + 5) rows.push(row('proj_a', 'key_steady', noisy(9_000_000)));
    const business = i % 24 >= 8 && i % 24 < 18;
    rows.push(row('proj_a', 'key_office', noisy(business ? 3_000_000 : 300_000)));
    rows.push(row('proj_b', null, noisy(400_000), 'gpt-4o-mini'), row('proj_b', null, noisy(300_000), 'o3'));
    out.push({ start: START + i * HOUR, rows });
  }
  return out;
}

const summary = (alerts: Alert[]) =>
  alerts.map((a) => `${a.type} ${a.apiKeyId ?? '-'} +${(a.bucketStart - START) / HOUR}`);

describe('HourEvaluator on dynalite', () => {
  it('replays a few hundred hours: one spike, reminders, resolution once the key went silent', async () => {
    const { evaluator, table } = await freshEvaluator({ notifications: { repeatEveryHours: 2 } });
    const alerts: Alert[] = [];
    let evaluated = 0;
    for (const hour of organization(300, 200)) {
      const result = await evaluator.evaluate(hour);
      alerts.push(...result.alerts);
      evaluated += result.seriesEvaluated;
    }
    const notNew = summary(alerts.filter((a) => a.type !== 'new_key'));
    expect(notNew).toEqual([
      'spike key_steady +200',
      'reminder key_steady +202',
      'reminder key_steady +204',
      // Silent from +205: back within the baseline for recoveryHours (3), found through the open-incidents index.
      'resolved key_steady +207',
    ]);
    expect(summary(alerts.filter((a) => a.type === 'new_key'))).toEqual([
      'new_key key_steady +0',
      'new_key key_office +0',
      'new_key - +0',
    ]);
    const resolved = alerts.find((a) => a.type === 'resolved');
    expect(resolved?.durationHours).toBe(5);
    expect(resolved?.incidentStart).toBe(START + 200 * HOUR);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
    expect(evaluated).toBeGreaterThan(3 * 200);
    expect(await new OpenIncidentsIndex(client, table).read()).toEqual([]);

    const items = await client.send(new ScanCommand({ TableName: table }));
    const series = (items.Items ?? []).filter((i) => i.pk?.S?.startsWith('series#'));
    expect(series.map((i) => i.pk?.S).sort()).toEqual([
      'series#proj_a#key_office',
      'series#proj_a#key_steady',
      'series#proj_b#-',
    ]);
    for (const item of series) {
      expect(Number(item.expiresAt?.N)).toBeGreaterThan(START + 30 * 86_400);
      expect(item.s?.S?.length).toBeLessThan(800);
    }
  });

  it('learns but alerts nothing while priming', async () => {
    const { evaluator } = await freshEvaluator();
    const alerts: Alert[] = [];
    for (const hour of organization(220, 200)) {
      alerts.push(...(await evaluator.evaluate(hour, { priming: true })).alerts);
    }
    expect(alerts).toEqual([]);
  });

  it('gives the same final state and alerts when hours are evaluated twice (property)', async () => {
    const hours = organization(90, 70, 5);
    const config = { detection: { warmupHours: 24 }, notifications: { repeatEveryHours: 3 } };
    async function replay(order: UsageHour[]) {
      const { evaluator, table } = await freshEvaluator(config);
      const alerts: Alert[] = [];
      for (const hour of order) alerts.push(...(await evaluator.evaluate(hour)).alerts);
      const items = await client.send(new ScanCommand({ TableName: table }));
      const state = (items.Items ?? [])
        .map((i) => `${i.pk?.S}|${i.sk?.S}|${i.s?.S ?? i.series?.S}|${i.expiresAt?.N}`)
        .sort();
      return { ids: alerts.map((a) => a.id).sort(), state };
    }
    const clean = await replay(hours);
    expect(clean.ids.length).toBeGreaterThan(3);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: hours.length - 1 }), { minLength: 1, maxLength: 12 }),
        async (repeats) => {
          // Each chosen hour is evaluated again right after itself, and a few again at the end (old hours).
          const order: UsageHour[] = [];
          hours.forEach((hour, i) => {
            order.push(hour);
            for (const r of repeats) if (r === i) order.push(hour);
          });
          for (const r of repeats.slice(0, 3)) order.push(hours[r] as UsageHour);
          const dup = await replay(order);
          expect(dup.ids).toEqual(clean.ids);
          expect(dup.state).toEqual(clean.state);
        },
      ),
      { numRuns: 4 },
    );
  });

  it('marks alerts covered by a mute', async () => {
    const { evaluator } = await freshEvaluator({ mutes: [{ apiKeyId: 'key_steady', until: '2099-01-01' }] });
    const [first] = organization(1, 100);
    const { alerts } = await evaluator.evaluate(first as UsageHour);
    expect(alerts.find((a) => a.apiKeyId === 'key_steady')?.muted).toBe(true);
    expect(alerts.find((a) => a.apiKeyId === 'key_office')?.muted).toBeUndefined();
  });
});
