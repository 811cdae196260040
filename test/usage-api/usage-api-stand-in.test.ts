// The stand-in behaves like the API's contract: encodings, limits, auth, unaligned starts, the filling
// current hour, revisions, empty buckets, cursors; and every answer passes the client's own schemas.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import {
  STAND_IN_ADMIN_KEY,
  startUsageApiStandIn,
  type UsageApiStandIn,
} from '../../functions/local/usage-api-stand-in.ts';
import {
  costsPageSchema,
  projectApiKeyListSchema,
  projectListSchema,
  type UsagePage,
  usagePageSchema,
} from '../../functions/usage-api/usage-page-schema.ts';
import { HOUR } from './usage-test-helpers.ts';

const org = simulateOrganization({ seed: 5, keys: 12, weeks: 2 });
let clock = org.end + 86_400;
let standIn: UsageApiStandIn;

beforeAll(async () => {
  standIn = await startUsageApiStandIn({ org, now: () => clock, revisionMinutes: 15, maxResultsPerPage: 40 });
});
afterAll(() => standIn.stop());

async function get(
  pathAndQuery: string,
  key: string | null = STAND_IN_ADMIN_KEY,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
  const response = await request(`${standIn.baseUrl}${pathAndQuery}`, { headers });
  return { status: response.statusCode, json: await response.body.json() };
}

async function usage(query: string): Promise<UsagePage> {
  const { status, json } = await get(`/organization/usage/completions?${query}`);
  expect(status).toBe(200);
  return usagePageSchema.parse(json);
}

/** Follows next_page to the end. */
async function allUsage(query: string): Promise<UsagePage[]> {
  const pages = [await usage(query)];
  for (let page = pages[0]; page?.has_more; page = pages.at(-1)) {
    pages.push(await usage(`${query}&page=${encodeURIComponent(page.next_page ?? '')}`));
  }
  return pages;
}

const totalInput = (pages: UsagePage[]) =>
  pages.flatMap((p) => p.data).reduce((s, b) => s + b.results.reduce((t, r) => t + r.input_tokens, 0), 0);

describe('usage API stand-in', () => {
  const t0 = org.start + 30 * HOUR;

  it('accepts arrays as brackets and as repeated keys alike', async () => {
    const base = `start_time=${t0}&end_time=${t0 + 6 * HOUR}&bucket_width=1h`;
    const repeated = await allUsage(
      `${base}&group_by=project_id&group_by=api_key_id&project_ids=${org.projects[0]?.id}`,
    );
    const brackets = await allUsage(
      `${base}&group_by[]=project_id&group_by[]=api_key_id&project_ids[]=${org.projects[0]?.id}`,
    );
    expect(brackets).toEqual(repeated);
    const results = repeated.flatMap((p) => p.data).flatMap((b) => b.results);
    expect(results.length).toBeGreaterThan(0);
    expect(
      results.every((r) => r.project_id === org.projects[0]?.id && r.api_key_id && r.model === null),
    ).toBe(true);
  });

  it('pages with opaque cursors and splits big buckets across pages', async () => {
    const pages = await allUsage(
      `start_time=${t0}&end_time=${t0 + 30 * HOUR}&bucket_width=1h&limit=168&group_by=project_id&group_by=api_key_id&group_by=model`,
    );
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.data.flatMap((b) => b.results).length <= 40)).toBe(true);
    let expected = 0;
    for (let h = t0; h < t0 + 30 * HOUR; h += HOUR)
      expected += org.usageAt(h).reduce((s, r) => s + r.inputTokens, 0);
    expect(totalInput(pages)).toBe(expected);
    const bad = await get(
      `/organization/usage/completions?start_time=${t0}&bucket_width=1h&page=not-a-cursor`,
    );
    expect(bad.status).toBe(400);
  });

  it('applies the limit defaults and bounds of each bucket width', async () => {
    const hourly = await usage(`start_time=${t0}&bucket_width=1h`);
    expect(hourly.data).toHaveLength(24);
    expect(hourly.has_more).toBe(true);
    const daily = await usage(`start_time=${org.start}&bucket_width=1d`);
    expect(daily.data).toHaveLength(7);
    expect(daily.data[0]?.end_time).toBe(org.start + 86_400);
    for (const [width, over] of [
      ['1h', 169],
      ['1d', 32],
      ['1m', 1441],
    ] as const) {
      const { status, json } = await get(
        `/organization/usage/completions?start_time=${t0}&bucket_width=${width}&limit=${over}`,
      );
      expect(status).toBe(400);
      expect(json).toMatchObject({ error: { param: 'limit', type: 'invalid_request_error' } });
    }
    const zero = await get(`/organization/usage/completions?start_time=${t0}&bucket_width=1h&limit=0`);
    expect(zero.status).toBe(400);
  });

  it('requires start_time', async () => {
    const { status, json } = await get('/organization/usage/completions?bucket_width=1h');
    expect(status).toBe(400);
    expect(json).toMatchObject({
      error: { param: 'start_time', message: expect.stringContaining('start_time') },
    });
  });

  it('starts the first bucket at an unaligned start_time and ends it at the boundary', async () => {
    const page = await usage(
      `start_time=${t0 + 1800}&end_time=${t0 + 3 * HOUR}&bucket_width=1h&group_by=api_key_id`,
    );
    expect(page.data.map((b) => [b.start_time, b.end_time])).toEqual([
      [t0 + 1800, t0 + HOUR],
      [t0 + HOUR, t0 + 2 * HOUR],
      [t0 + 2 * HOUR, t0 + 3 * HOUR],
    ]);
  });

  it('sums minute buckets to about the hour', async () => {
    const minutes = await allUsage(`start_time=${t0}&end_time=${t0 + HOUR}&bucket_width=1m&limit=60`);
    expect(minutes.flatMap((p) => p.data)).toHaveLength(60);
    const hour = org.usageAt(t0).reduce((s, r) => s + r.inputTokens, 0);
    const summed = totalInput(minutes);
    expect(summed).toBeLessThanOrEqual(hour);
    expect(summed).toBeGreaterThan(hour * 0.95);
  });

  it('serves the still-filling current hour and revises closed hours for a while', async () => {
    const h = org.start + 200 * HOUR;
    const final = org.usageAt(h - HOUR).reduce((s, r) => s + r.inputTokens, 0);
    const finalCurrent = org.usageAt(h).reduce((s, r) => s + r.inputTokens, 0);
    const read = async () => {
      const page = await usage(`start_time=${h - HOUR}&bucket_width=1h&limit=5`);
      return page.data.map((b) => b.results.reduce((s, r) => s + r.input_tokens, 0));
    };
    try {
      clock = h + 30 * 60; // half past: the previous hour closed 30 min ago, the current one half done
      const [closed, current, ...rest] = await read();
      expect(rest).toEqual([]);
      expect(closed).toBe(final);
      expect(current).toBeGreaterThan(0);
      expect(current).toBeLessThan(finalCurrent * 0.55);

      clock = h + HOUR + 5 * 60; // 5 min after close: still being revised
      const [, justClosed] = await read();
      expect(justClosed).toBeLessThan(finalCurrent);
      expect(justClosed).toBeGreaterThan(current ?? 0);

      clock = h + HOUR + 16 * 60; // past the revision window: final
      const [, settled] = await read();
      expect(settled).toBe(finalCurrent);

      const withFutureEnd = await usage(`start_time=${h - HOUR}&end_time=${h + 10 * HOUR}&bucket_width=1h`);
      expect(withFutureEnd.data).toHaveLength(3);
      expect(withFutureEnd.has_more).toBe(false);
    } finally {
      clock = org.end + 86_400;
    }
  });

  it('sends empty buckets for hours without usage', async () => {
    const sparse = org.keys.find((k) => {
      const hours = Array.from({ length: 48 }, (_, i) =>
        org.usageAt(t0 + i * HOUR).some((r) => r.apiKeyId === k.id),
      );
      return hours.includes(false) && hours.includes(true);
    });
    expect(sparse).toBeDefined();
    const page = await usage(
      `start_time=${t0}&end_time=${t0 + 48 * HOUR}&bucket_width=1h&limit=48&api_key_ids=${sparse?.id}`,
    );
    expect(page.data).toHaveLength(48);
    expect(page.data.some((b) => b.results.length === 0)).toBe(true);
  });

  it('answers 401 without a key or with a wrong one, 403 for a project key, with the error body', async () => {
    const query = `/organization/usage/completions?start_time=${t0}`;
    const missing = await get(query, null);
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({
      error: { message: expect.stringContaining("didn't provide an API key") },
    });
    const wrong = await get(query, 'sk-admin-wrong-key-000000');
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({
      error: { message: expect.stringMatching(/^Incorrect API key provided/) },
    });
    expect(JSON.stringify(wrong.json)).not.toContain('sk-admin-wrong-key-000000');
    const project = await get(query, 'sk-proj-abc123');
    expect(project.status).toBe(403);
    expect(standIn.requests.slice(-3).map((r) => r.auth)).toEqual(['missing', 'wrong', 'project-key']);
  });

  it('passes the client schema in every answer: widths, groupings, costs, projects and keys', async () => {
    const queries = [
      `start_time=${t0}&bucket_width=1h&limit=168&group_by=project_id&group_by=api_key_id&group_by=model`,
      `start_time=${t0}&bucket_width=1d&group_by=batch&group_by=service_tier&group_by=user_id`,
      `start_time=${t0}&bucket_width=1m&limit=120&batch=true`,
      `start_time=${t0 + 17}&bucket_width=1h`,
    ];
    for (const query of queries) {
      for (const page of await allUsage(query)) expect(usagePageSchema.safeParse(page).success).toBe(true);
    }
    const costs = await get(
      `/organization/costs?start_time=${org.start}&group_by=project_id&group_by=line_item`,
    );
    expect(costs.status).toBe(200);
    expect(costsPageSchema.safeParse(costs.json).success).toBe(true);
    const projects = await get('/organization/projects?limit=100&include_archived=true');
    expect(projectListSchema.parse(projects.json).data).toHaveLength(org.projects.length);
    const keys = await get(`/organization/projects/${org.projects[0]?.id}/api_keys?limit=100`);
    expect(projectApiKeyListSchema.parse(keys.json).data.length).toBeGreaterThan(0);
    const unknown = await get('/organization/projects/proj_nope/api_keys');
    expect(unknown.status).toBe(404);
  });

  it('records requests without their credentials', () => {
    expect(standIn.requests.length).toBeGreaterThan(0);
    expect(JSON.stringify(standIn.requests)).not.toContain(STAND_IN_ADMIN_KEY);
  });
});
