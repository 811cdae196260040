import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeSchemaIssues, usagePageSchema } from '../../functions/usage-api/usage-page-schema.ts';
import {
  NO_PROJECT_ID,
  toUsageRow,
  UsageHourCollector,
  usageHoursFromPages,
} from '../../functions/usage-api/usage-pages-to-hours.ts';

const example: unknown = JSON.parse(
  readFileSync(new URL('../fixtures/usage-completions-example.json', import.meta.url), 'utf8'),
);

const result = (over: Record<string, unknown> = {}) => ({
  object: 'organization.usage.completions.result',
  input_tokens: 100,
  output_tokens: 20,
  num_model_requests: 2,
  project_id: 'proj_a',
  api_key_id: 'key_a',
  model: 'gpt-4o-mini',
  ...over,
});
const bucket = (start: number, results: unknown[]) => ({
  object: 'bucket',
  start_time: start,
  end_time: start + 3600,
  results,
});
const firstResult = (raw: unknown) => {
  const first = usagePageSchema.parse(raw).data[0]?.results[0];
  if (!first) throw new Error('no result');
  return first;
};
const page = (data: unknown[], nextPage: string | null = null) => ({
  object: 'page',
  data,
  has_more: nextPage !== null,
  next_page: nextPage,
});

describe('usage page schema', () => {
  it("accepts the spec's example response", () => {
    const parsed = usagePageSchema.parse(example);
    expect(parsed.data[0]?.results[0]?.input_tokens).toBe(1000);
    expect(parsed.next_page).toBe('page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=');
  });

  it('allows unknown fields and absent optional counters', () => {
    const parsed = usagePageSchema.parse(
      page([bucket(0, [{ ...result(), brand_new_counter: 7, input_cached_tokens: null }])]),
    );
    const row = parsed.data[0]?.results[0];
    expect(row?.brand_new_counter).toBe(7);
    expect(toUsageRow(row ?? result()).cachedInputTokens).toBe(0);
  });

  it('names the field path when a value has the wrong type', () => {
    const bad = page([bucket(0, []), bucket(3600, [result(), result({ input_tokens: '12' })])]);
    const parsed = usagePageSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(describeSchemaIssues(parsed.error)).toBe(
      'data[1].results[1].input_tokens: expected number, received string',
    );
  });

  it('names a missing required field', () => {
    const { num_model_requests: _, ...withoutRequests } = result();
    const parsed = usagePageSchema.safeParse(page([bucket(0, [withoutRequests])]));
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(describeSchemaIssues(parsed.error)).toMatch(
      /^data\[0\]\.results\[0\]\.num_model_requests: expected number/,
    );
  });
});

describe('pages to hours', () => {
  it('maps a result to a usage row', () => {
    expect(toUsageRow(firstResult(page([bucket(0, [result({ input_cached_tokens: 40 })])])))).toEqual({
      projectId: 'proj_a',
      apiKeyId: 'key_a',
      model: 'gpt-4o-mini',
      inputTokens: 100,
      cachedInputTokens: 40,
      outputTokens: 20,
      requests: 2,
    });
    const ungrouped = firstResult(
      page([bucket(0, [result({ project_id: null, api_key_id: null, model: null })])]),
    );
    expect(toUsageRow(ungrouped)).toMatchObject({
      projectId: NO_PROJECT_ID,
      apiKeyId: null,
      model: null,
    });
  });

  it('merges an hour split across pages and fills empty hours', () => {
    const first = usagePageSchema.parse(page([bucket(0, [result({ api_key_id: 'key_a' })])], 'page_x'));
    const second = usagePageSchema.parse(
      page([bucket(0, [result({ api_key_id: 'key_b' })]), bucket(7200, [result({ api_key_id: 'key_c' })])]),
    );
    const hours = usageHoursFromPages([first, second], { start: 0, end: 4 * 3600 });
    expect(hours.map((h) => h.start)).toEqual([0, 3600, 7200, 10800]);
    expect(hours.map((h) => h.rows.map((r) => r.apiKeyId))).toEqual([['key_a', 'key_b'], [], ['key_c'], []]);
  });

  it('drops rows a filter rejects and hours outside the range', () => {
    const collector = new UsageHourCollector();
    collector.addPage(
      usagePageSchema.parse(
        page([bucket(-3600, [result()]), bucket(0, [result(), result({ api_key_id: 'key_x' })])]),
      ),
      (row) => row.apiKeyId !== 'key_x',
    );
    const hours = collector.hours({ start: 0, end: 3600 });
    expect(hours).toHaveLength(1);
    expect(hours[0]?.rows.map((r) => r.apiKeyId)).toEqual(['key_a']);
  });
});
