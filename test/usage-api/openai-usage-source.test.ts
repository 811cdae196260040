// The live client against the stand-in over real sockets: paging, merging, retries, deadlines, errors.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../functions/config/config-schema.ts';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import {
  STAND_IN_ADMIN_KEY,
  startUsageApiStandIn,
  type UsageApiStandIn,
} from '../../functions/local/usage-api-stand-in.ts';
import type { RetryInfo } from '../../functions/usage-api/admin-api-client.ts';
import {
  OpenAiUsageSource,
  type OpenAiUsageSourceOptions,
} from '../../functions/usage-api/openai-usage-source.ts';
import { UsageApiError } from '../../functions/usage-api/usage-api-error.ts';
import { capturingLogger, HOUR, sortedRows } from './usage-test-helpers.ts';

const org = simulateOrganization({ seed: 11, keys: 40, weeks: 2 });
const defaultWatch = configSchema.parse({}).watch;
let standIn: UsageApiStandIn;
const sources: OpenAiUsageSource[] = [];

beforeAll(async () => {
  // All hours final (the clock is long after the simulation), and small pages so buckets split.
  standIn = await startUsageApiStandIn({ org, now: () => org.end + 30 * 86_400, maxResultsPerPage: 40 });
});
afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await standIn.stop();
});
afterEach(() => {
  standIn.setFaults([]);
  standIn.requests.length = 0;
});

function source(over: Partial<OpenAiUsageSourceOptions> = {}): OpenAiUsageSource {
  const s = new OpenAiUsageSource({
    apiBase: standIn.baseUrl,
    adminKey: STAND_IN_ADMIN_KEY,
    watch: defaultWatch,
    requestTimeoutMs: 2_000,
    maxAttempts: 6,
    backoff: { baseMs: 5, maxMs: 40 },
    minAttemptMs: 100,
    ...over,
  });
  sources.push(s);
  return s;
}

const soon = (ms = 20_000) => ({ atMs: Date.now() + ms });

describe('OpenAiUsageSource reading the stand-in', () => {
  it('reads a multi-page range equal to what the organization used', async () => {
    const range = { start: org.start, end: org.start + 200 * HOUR };
    const hours = await source().readHours(range, soon());
    expect(hours).toHaveLength(200);
    hours.forEach((hour, i) => {
      expect(hour.start).toBe(range.start + i * HOUR);
      expect(sortedRows(hour.rows)).toEqual(sortedRows(org.usageAt(hour.start)));
    });
    const asked = standIn.requests.filter((r) => r.path === '/organization/usage/completions');
    expect(asked.length).toBeGreaterThan(2);
    expect(asked[0]?.query).toMatchObject({
      bucket_width: ['1h'],
      limit: ['168'],
      group_by: ['project_id', 'api_key_id', 'model'],
      start_time: [String(range.start)],
      end_time: [String(range.end)],
    });
    expect(asked.slice(1).every((r) => r.query.page?.length === 1)).toBe(true);
  });

  it('reads a short pending range fully, empty hours included', async () => {
    const range = { start: org.end - 5 * HOUR, end: org.end };
    const hours = await source().readHours(range, soon());
    expect(hours.map((h) => h.start)).toEqual([0, 1, 2, 3, 4].map((i) => range.start + i * HOUR));
    for (const hour of hours) expect(sortedRows(hour.rows)).toEqual(sortedRows(org.usageAt(hour.start)));
  });

  it('returns the empty hours of a sparse key as empty hours', async () => {
    const range = { start: org.start + 48 * HOUR, end: org.start + 96 * HOUR };
    const usedHours = (keyId: string) =>
      Array.from({ length: 48 }, (_, i) =>
        org.usageAt(range.start + i * HOUR).some((r) => r.apiKeyId === keyId),
      );
    const sparse = org.keys.find((k) => {
      const used = usedHours(k.id).filter(Boolean).length;
      return used > 0 && used < 24;
    });
    expect(sparse).toBeDefined();
    const watch = configSchema.parse({ watch: { apiKeyIds: [sparse?.id] } }).watch;
    const hours = await source({ watch }).readHours(range, soon());
    expect(hours).toHaveLength(48);
    expect(hours.map((h) => h.rows.length > 0)).toEqual(usedHours(sparse?.id ?? ''));
    expect(standIn.requests[0]?.query.api_key_ids).toEqual([sparse?.id]);
  });

  it('sends include filters to the API and applies exclusions itself', async () => {
    const [keep, drop] = org.keys.filter((k) => k.projectId === org.projects[0]?.id);
    expect(keep && drop).toBeTruthy();
    const watch = configSchema.parse({
      watch: {
        projectIds: [org.projects[0]?.id],
        excludeApiKeyIds: [drop?.id],
        batch: 'exclude',
        models: [],
      },
    }).watch;
    const range = { start: org.start + 24 * HOUR, end: org.start + 72 * HOUR };
    const hours = await source({ watch }).readHours(range, soon());
    const query = standIn.requests[0]?.query;
    expect(query?.project_ids).toEqual([org.projects[0]?.id]);
    expect(query?.batch).toEqual(['false']);
    for (const hour of hours) {
      const expected = org
        .usageDetailAt(hour.start)
        .filter((r) => r.projectId === org.projects[0]?.id && r.apiKeyId !== drop?.id && !r.batch);
      const got = hour.rows;
      expect(got.every((r) => r.projectId === org.projects[0]?.id && r.apiKeyId !== drop?.id)).toBe(true);
      expect(got.reduce((s, r) => s + r.inputTokens, 0)).toBe(
        expected.reduce((s, r) => s + r.inputTokens, 0),
      );
    }
  });
});

describe('OpenAiUsageSource riding out failures', () => {
  const range = { start: org.start + 100 * HOUR, end: org.start + 103 * HOUR };

  it('rides out a 429 storm without Retry-After, backing off', async () => {
    standIn.setFaults([{ kind: 'rate-limit', times: 5 }]);
    const retries: RetryInfo[] = [];
    const hours = await source({ onRetry: (info) => retries.push(info) }).readHours(range, soon());
    expect(hours).toHaveLength(3);
    expect(retries.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    expect(retries.every((r) => !r.retryAfter && r.delayMs <= 40)).toBe(true);
  });

  it('waits what Retry-After asks', async () => {
    standIn.setFaults([{ kind: 'rate-limit', retryAfterSeconds: 1, times: 1 }]);
    const retries: RetryInfo[] = [];
    await source({ onRetry: (info) => retries.push(info) }).readHours(range, soon());
    expect(retries).toEqual([expect.objectContaining({ status: 429, retryAfter: true, delayMs: 1000 })]);
  });

  it('retries 500 and 503', async () => {
    standIn.setFaults([
      { kind: 'server-error', times: 2 },
      { kind: 'server-error', status: 503, times: 1 },
    ]);
    const retries: RetryInfo[] = [];
    const hours = await source({ onRetry: (info) => retries.push(info) }).readHours(range, soon());
    expect(hours).toHaveLength(3);
    expect(retries.map((r) => r.status)).toEqual([500, 500, 503]);
  });

  it('retries a response slower than the per-request timeout, then succeeds', async () => {
    standIn.setFaults([{ kind: 'slow', delayMs: 1_500, times: 1 }]);
    const retries: RetryInfo[] = [];
    const hours = await source({ requestTimeoutMs: 300, onRetry: (info) => retries.push(info) }).readHours(
      range,
      soon(),
    );
    expect(hours.map((h) => sortedRows(h.rows))).toEqual(hours.map((h) => sortedRows(org.usageAt(h.start))));
    expect(retries).toHaveLength(1);
    expect(retries[0]?.reason).toMatch(/timeout/);
  });

  it('retries a cut-off body', async () => {
    standIn.setFaults([{ kind: 'cut-off', times: 1 }]);
    const retries: RetryInfo[] = [];
    const hours = await source({ onRetry: (info) => retries.push(info) }).readHours(range, soon());
    expect(hours.map((h) => sortedRows(h.rows))).toEqual(hours.map((h) => sortedRows(org.usageAt(h.start))));
    expect(retries).toHaveLength(1);
    expect(retries[0]?.reason).toMatch(/^network/);
  });

  it('gives up as unavailable after maxAttempts', async () => {
    standIn.setFaults([{ kind: 'server-error', status: 502 }]);
    const error = await source({ maxAttempts: 3 })
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageApiError);
    expect(error).toMatchObject({ kind: 'unavailable', status: 502 });
    expect(standIn.requests).toHaveLength(3);
  });

  it('stops at the deadline instead of waiting out a long Retry-After', async () => {
    standIn.setFaults([{ kind: 'rate-limit', retryAfterSeconds: 30 }]);
    const error = await source()
      .readHours(range, soon(3_000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageApiError);
    expect((error as UsageApiError).kind).toBe('deadline');
    expect((error as UsageApiError).transient).toBe(true);
    expect(standIn.requests).toHaveLength(1);
  });

  it('stops at the deadline when backoff would outlast it', async () => {
    standIn.setFaults([{ kind: 'server-error' }]);
    const error = await source({
      backoff: { baseMs: 60_000, maxMs: 60_000 },
      random: () => 0.99,
      maxAttempts: 50,
    })
      .readHours(range, soon(2_000))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'deadline' });
  });

  it('does not start when the deadline has passed', async () => {
    const error = await source()
      .readHours(range, { atMs: Date.now() - 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'deadline' });
    expect(standIn.requests).toHaveLength(0);
  });
});

describe('OpenAiUsageSource failing fast', () => {
  const range = { start: org.start + 100 * HOUR, end: org.start + 102 * HOUR };

  it('fails a 401 at once with the status and the API message, and never shows the key', async () => {
    const wrongKey = 'sk-admin-THISisTHEsecretKEY-0123456789abcdef';
    const logger = capturingLogger();
    const error = await source({ adminKey: wrongKey, logger })
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageApiError);
    const e = error as UsageApiError;
    expect(e.kind).toBe('auth');
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/^OpenAI usage API answered 401: Incorrect API key provided/);
    expect(standIn.requests).toHaveLength(1);
    const exposed = [
      inspect(e, { depth: 10, showHidden: true }),
      JSON.stringify(e),
      String(e.stack),
      ...logger.lines,
    ];
    for (const text of exposed) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain('THISisTHEsecretKEY');
      expect(text).not.toContain('0123456789abcdef');
    }
  });

  it('keeps the key out of logs and errors across retries too', async () => {
    standIn.setFaults([
      { kind: 'rate-limit', times: 2 },
      { kind: 'cut-off', times: 1 },
    ]);
    const logger = capturingLogger();
    await source({ logger }).readHours(range, soon());
    expect(logger.lines.length).toBeGreaterThan(2);
    for (const line of logger.lines) expect(line).not.toContain(STAND_IN_ADMIN_KEY);
  });

  it('fails a 403 (a project key, not an admin key) as auth', async () => {
    const error = await source({ adminKey: 'sk-proj-notAnAdminKey1234' })
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', status: 403 });
    expect((error as Error).message).toMatch(
      /^OpenAI usage API answered 403: You have insufficient permissions/,
    );
    expect(inspect(error)).not.toContain('notAnAdminKey');
  });

  it('fails a 400 as a client error without retrying', async () => {
    standIn.setFaults([{ kind: 'status', status: 400, message: "Invalid value for 'group_by'." }]);
    const error = await source()
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'client', status: 400 });
    expect((error as Error).message).toContain("answered 400: Invalid value for 'group_by'.");
    expect(standIn.requests).toHaveLength(1);
  });

  it('fails schema drift (a renamed field) naming the field', async () => {
    standIn.setFaults([{ kind: 'schema-drift', drift: 'renamed-field' }]);
    const error = await source()
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'schema' });
    expect((error as Error).message).toMatch(
      /data\[\d+\]\.results\[0\]\.input_tokens: expected number, received undefined/,
    );
  });

  it('fails schema drift (a string for a number) naming the field', async () => {
    standIn.setFaults([{ kind: 'schema-drift', drift: 'string-for-number' }]);
    const error = await source()
      .readHours(range, soon())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'schema' });
    expect((error as Error).message).toMatch(
      /data\[\d+\]\.results\[0\]\.num_model_requests: expected number, received string/,
    );
  });
});
