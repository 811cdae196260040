// Project and key names (paging, permission fallback, the DynamoDB cache) and the daily costs check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import { renderCostsPage } from '../../functions/local/simulated-usage-pages.ts';
import {
  STAND_IN_ADMIN_KEY,
  startUsageApiStandIn,
  type UsageApiStandIn,
} from '../../functions/local/usage-api-stand-in.ts';
import { DynamoDbNameCache, fitDirectory } from '../../functions/usage-api/dynamodb-name-cache.ts';
import type { NameCache, NameDirectory } from '../../functions/usage-api/name-directory.ts';
import { OpenAiNameDirectory } from '../../functions/usage-api/name-directory.ts';
import { OpenAiDailyCosts } from '../../functions/usage-api/openai-daily-costs.ts';
import { useLocalDynamoDb } from '../support/local-dynamodb.ts';
import { capturingLogger } from './usage-test-helpers.ts';

// 130 projects (two pages of projects), and one project with 150 keys (two pages of keys).
const manyProjects = simulateOrganization({ seed: 3, keys: 140, projects: 130, weeks: 2 });
const bigProject = simulateOrganization({ seed: 4, keys: 160, projects: 1, weeks: 2 });
const stands: UsageApiStandIn[] = [];
const closers: Array<{ close(): Promise<void> }> = [];
const dynamo = useLocalDynamoDb();
let stateTable: string;

beforeAll(async () => {
  stands.push(await startUsageApiStandIn({ org: manyProjects }));
  stands.push(await startUsageApiStandIn({ org: bigProject, costAmountsAsStrings: true }));
  stateTable = await dynamo.freshTable('state');
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await Promise.all(stands.map((s) => s.stop()));
});

function directory(standIn: UsageApiStandIn, cache?: NameCache, nowMs?: () => number) {
  const d = new OpenAiNameDirectory({
    apiBase: standIn.baseUrl,
    adminKey: STAND_IN_ADMIN_KEY,
    backoff: { baseMs: 5, maxMs: 20 },
    maxAttempts: 2,
    logger: capturingLogger(),
    ...(cache ? { cache } : {}),
    ...(nowMs ? { nowMs } : {}),
  });
  closers.push(d);
  return d;
}

describe('OpenAiNameDirectory', () => {
  it('lists every project over several pages, with names for ids', async () => {
    const standIn = stands[0] as UsageApiStandIn;
    const lookup = await directory(standIn).lookup();
    for (const key of manyProjects.keys) {
      const project = manyProjects.projects.find((p) => p.id === key.projectId);
      expect(lookup(key.projectId, key.id)).toEqual({
        project: project?.name,
        apiKey: key.name,
        redactedKey: key.redactedValue,
      });
    }
    const projectPages = standIn.requests.filter((r) => r.path === '/organization/projects');
    expect(projectPages.map((r) => r.query.after?.[0] ?? null)).toEqual([
      null,
      manyProjects.projects[99]?.id,
    ]);
    expect(projectPages[0]?.query).toMatchObject({ limit: ['100'], include_archived: ['true'] });
    expect(lookup('proj_unknown', null)).toEqual({});
  });

  it("pages through a project's keys", async () => {
    const standIn = stands[1] as UsageApiStandIn;
    const lookup = await directory(standIn).lookup();
    const keyPages = standIn.requests.filter((r) => r.path.endsWith('/api_keys'));
    expect(keyPages).toHaveLength(2);
    expect(keyPages[1]?.query.after).toEqual([bigProject.keys[99]?.id]);
    expect(bigProject.keys.every((k) => lookup(k.projectId, k.id).apiKey === k.name)).toBe(true);
  });

  it('falls back to ids, silently, without permission', async () => {
    const standIn = stands[0] as UsageApiStandIn;
    standIn.setFaults([{ kind: 'status', status: 403, path: '/organization/projects' }]);
    try {
      const logger = capturingLogger();
      const d = new OpenAiNameDirectory({ apiBase: standIn.baseUrl, adminKey: STAND_IN_ADMIN_KEY, logger });
      closers.push(d);
      const lookup = await d.lookup();
      const key = manyProjects.keys[0];
      expect(lookup(key?.projectId ?? '', key?.id ?? null)).toEqual({});
      expect(logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    } finally {
      standIn.setFaults([]);
    }
  });

  it('caches the directory in DynamoDB for a day', async () => {
    const standIn = stands[0] as UsageApiStandIn;
    const cache = new DynamoDbNameCache({ client: dynamo.client, tableName: stateTable });
    let now = Date.UTC(2026, 0, 5);
    const first = await directory(standIn, cache, () => now).directory();
    const asked = standIn.requests.length;

    now += 12 * 3_600_000;
    const second = await directory(standIn, cache, () => now).directory();
    expect(second).toEqual(first);
    expect(standIn.requests.length).toBe(asked);

    now += 13 * 3_600_000;
    await directory(standIn, cache, () => now).directory();
    expect(standIn.requests.length).toBeGreaterThan(asked);

    const stored = await cache.read();
    expect(stored?.fetchedAt).toBe(now);
    expect(Object.keys(stored?.directory.apiKeys ?? {})).toHaveLength(manyProjects.keys.length);
  });

  it('keeps a huge directory under the item limit and says it was cut', () => {
    const huge: NameDirectory = { projects: { proj_a: 'a' }, apiKeys: {} };
    for (let i = 0; i < 5_000; i++) {
      huge.apiKeys[`key_${i}_${(i * 7919).toString(36)}`] = {
        name: `key-name-${i}`,
        redacted: `sk-proj-****${i}`,
      };
    }
    const { blob, directory: kept } = fitDirectory(huge, 8 * 1024);
    expect(blob.byteLength).toBeLessThanOrEqual(8 * 1024);
    expect(kept.truncated).toBe(true);
    expect(kept.projects).toEqual(huge.projects);
    const keptKeys = Object.keys(kept.apiKeys).length;
    expect(keptKeys).toBeGreaterThan(0);
    expect(keptKeys).toBeLessThan(5_000);
  });
});

describe('OpenAiDailyCosts', () => {
  it('sums a day per project, reading amounts sent as strings', async () => {
    const standIn = stands[1] as UsageApiStandIn;
    const costs = new OpenAiDailyCosts({ apiBase: standIn.baseUrl, adminKey: STAND_IN_ADMIN_KEY });
    closers.push(costs);
    const day = bigProject.start + 3 * 86_400;
    const result = await costs.fetchDailyCosts(day + 5_000);
    expect(result.day).toBe(day);
    const expected = renderCostsPage(
      bigProject,
      { startTime: day, endTime: day + 86_400, limit: 1, groupBy: ['project_id'] },
      undefined,
    );
    const expectedUsd = expected.data[0]?.results[0]?.amount.value;
    expect(typeof expectedUsd).toBe('number');
    expect(result.usdByProject[bigProject.projects[0]?.id ?? '']).toBeCloseTo(expectedUsd as number, 6);
    expect(result.totalUsd).toBeGreaterThan(0);
    const asked = standIn.requests.find((r) => r.path === '/organization/costs');
    expect(asked?.query).toMatchObject({ bucket_width: ['1d'], group_by: ['project_id'] });
  });
});
