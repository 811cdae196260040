// The simulated organization: deterministic, shaped like a real one, labelled the way score.mjs reads.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import { utcOffsetAt } from '../../functions/local/simulated-usage-model.ts';
import { renderUsagePages } from '../../functions/local/simulated-usage-pages.ts';
import { usagePageSchema } from '../../functions/usage-api/usage-page-schema.ts';
import { usageHoursFromPages } from '../../functions/usage-api/usage-pages-to-hours.ts';
import { HOUR, sortedRows } from './usage-test-helpers.ts';

/** What /work/shared/bench/score.mjs reads from a labels file. */
const labelsFileSchema = z.strictObject({
  start: z.number().int(),
  hours: z.number().int().positive(),
  warmupHours: z.number().int().nonnegative(),
  series: z.number().int().positive(),
  incidents: z.array(
    z.strictObject({
      project_id: z.string().min(1),
      api_key_id: z.string().min(1),
      start: z.number().int(),
      end: z.number().int(),
      kind: z.string().min(1),
      ignore: z.literal(true).optional(),
    }),
  ),
});

const org = simulateOrganization({ seed: 2024 });
/** A key's tokens in an hour of an organization. */
const tokensIn =
  (o: ReturnType<typeof simulateOrganization>) =>
  (hourStart: number, keyId: string): number =>
    o
      .usageAt(hourStart)
      .filter((r) => String(r.apiKeyId) === keyId)
      .reduce((s, r) => s + r.inputTokens + r.outputTokens, 0);
const tokensOf = tokensIn(org);

describe('simulateOrganization', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = simulateOrganization({ seed: 2024 });
    expect(again.keys).toEqual(org.keys);
    expect(again.projects).toEqual(org.projects);
    expect(again.labels).toEqual(org.labels);
    for (const h of [0, 5, 200, 500, 839]) {
      expect(again.usageAt(org.start + h * HOUR)).toEqual(org.usageAt(org.start + h * HOUR));
    }
    // Any hour on its own gives the same rows as in sequence.
    expect(org.usageAt(org.start + 300 * HOUR)).toEqual(again.usageAt(org.start + 300 * HOUR));
    const other = simulateOrganization({ seed: 2025 });
    expect(other.keys.map((k) => k.id)).not.toEqual(org.keys.map((k) => k.id));
  });

  it('has the requested shape: 150 keys over five weeks from a Monday', () => {
    expect(org.keys).toHaveLength(150);
    expect(org.hours).toBe(5 * 168);
    expect(new Date(org.start * 1000).toISOString()).toBe('2025-10-13T00:00:00.000Z');
    expect(new Set(org.keys.map((k) => k.id)).size).toBe(150);
    expect(org.keys.every((k) => /^sk-proj-\*{4}[A-Za-z0-9]{4}$/.test(k.redactedValue))).toBe(true);
    expect(() => simulateOrganization({ seed: 1, start: org.start + 86_400 })).toThrow(/Monday/);
  });

  it('writes labels in the format score.mjs reads, incidents after the warm-up week', () => {
    const labels = labelsFileSchema.parse(org.labels);
    expect(labels.warmupHours).toBe(168);
    expect(labels.series).toBeGreaterThanOrEqual(150);
    const keyIds = new Set(org.keys.map((k) => k.id));
    const scored = labels.incidents.filter((i) => !i.ignore);
    expect(scored.length).toBeGreaterThanOrEqual(15);
    for (const incident of scored) {
      expect(keyIds.has(incident.api_key_id)).toBe(true);
      expect(incident.start).toBeGreaterThanOrEqual(org.start + 168 * HOUR);
      expect(incident.end).toBeGreaterThan(incident.start);
      expect(incident.end).toBeLessThanOrEqual(org.end);
      expect(incident.start % HOUR).toBe(0);
    }
    const kinds = new Set(scored.map((i) => i.kind));
    for (const kind of ['runaway_loop', 'leaked_key', 'step', 'ramp', 'prompt_bloat', 'new_key']) {
      expect(kinds.has(kind)).toBe(true);
    }
    expect(labels.incidents.filter((i) => i.kind === 'outage').every((i) => i.ignore)).toBe(true);
  });

  it('makes scored incidents visible in their first hours against the same hour a week before', () => {
    const scored = org.labels.incidents.filter((i) => !i.ignore && i.kind !== 'new_key');
    const visible = scored.filter((incident) => {
      for (let h = incident.start; h < Math.min(incident.end, incident.start + 3 * HOUR); h += HOUR) {
        const excess = tokensOf(h, incident.api_key_id) - tokensOf(h - 168 * HOUR, incident.api_key_id);
        if (excess >= 50_000) return true;
      }
      return false;
    });
    expect(visible.length / scored.length).toBeGreaterThanOrEqual(0.9);
  });

  it("starts every scored incident's label at an hour its key has usage (seed 5 once labelled prompt bloat 29 h before the key's next call, seed 9 on a key that made none while it lasted)", () => {
    for (const o of [org, simulateOrganization({ seed: 5 }), simulateOrganization({ seed: 9 })]) {
      const tokens = tokensIn(o);
      for (const incident of o.labels.incidents.filter((i) => !i.ignore)) {
        expect(
          tokens(incident.start, incident.api_key_id),
          `${incident.kind} on ${incident.api_key_id}`,
        ).toBeGreaterThan(0);
      }
    }
  });

  it('shows a ramp in its first labelled hour: it climbs from where it began (seeds 1 and 3 once began again, under 25k)', () => {
    for (const o of [org, simulateOrganization({ seed: 1 }), simulateOrganization({ seed: 3 })]) {
      const tokens = tokensIn(o);
      const ramps = o.labels.incidents.filter((i) => !i.ignore && i.kind === 'ramp');
      expect(ramps.length).toBeGreaterThan(2);
      for (const ramp of ramps) {
        const weekBefore = ramp.start - 168 * HOUR;
        const excess = tokens(ramp.start, ramp.api_key_id) - tokens(weekBefore, ramp.api_key_id);
        expect(excess, `ramp on ${ramp.api_key_id}`).toBeGreaterThanOrEqual(25_000);
      }
    }
  });

  it('gives new keys that start large no usage before they start', () => {
    for (const incident of org.labels.incidents.filter((i) => i.kind === 'new_key')) {
      for (let h = org.start; h < incident.start; h += 24 * HOUR)
        expect(tokensOf(h, incident.api_key_id)).toBe(0);
      const first = Array.from({ length: 6 }, (_, i) =>
        tokensOf(incident.start + i * HOUR, incident.api_key_id),
      );
      expect(Math.max(...first)).toBeGreaterThan(50_000);
    }
  });

  it('looks like a real organization: tiny to huge keys, sparse keys, several models, cached tokens', () => {
    const perKeyTotal = new Map<string, number>();
    const emptyHours = new Map<string, number>();
    const models = new Map<string, Set<string>>();
    let cached = 0;
    let input = 0;
    for (let h = 0; h < 168; h++) {
      const rows = org.usageAt(org.start + h * HOUR);
      const seen = new Set<string>();
      for (const r of rows) {
        const id = String(r.apiKeyId);
        seen.add(id);
        perKeyTotal.set(id, (perKeyTotal.get(id) ?? 0) + r.inputTokens + r.outputTokens);
        models.set(id, (models.get(id) ?? new Set()).add(String(r.model)));
        cached += r.cachedInputTokens;
        input += r.inputTokens;
        expect(r.cachedInputTokens).toBeLessThanOrEqual(r.inputTokens);
        expect(Number.isInteger(r.inputTokens) && Number.isInteger(r.requests)).toBe(true);
      }
      for (const k of org.keys) if (!seen.has(k.id)) emptyHours.set(k.id, (emptyHours.get(k.id) ?? 0) + 1);
    }
    const hourly = [...perKeyTotal.values()].map((t) => t / 168).sort((a, b) => a - b);
    expect(hourly[0]).toBeLessThan(2_000);
    expect(hourly.at(-1)).toBeGreaterThan(5_000_000);
    expect([...emptyHours.values()].filter((n) => n > 100).length).toBeGreaterThan(10);
    expect([...models.values()].filter((m) => m.size >= 2).length).toBeGreaterThan(20);
    expect(cached / input).toBeGreaterThan(0.05);
  });

  it('keeps summer time where the regions do: North America until 2 November 2025, Europe until 26 October', () => {
    const at = (iso: string) => Date.parse(iso) / 1000;
    const newYork = { tzOffsetHours: -5, daylightSaving: 'north-america' as const };
    expect(utcOffsetAt(newYork, at('2025-11-02T05:00:00Z'))).toBe(-4);
    expect(utcOffsetAt(newYork, at('2025-11-02T06:00:00Z'))).toBe(-5);
    expect(utcOffsetAt(newYork, at('2026-03-08T07:00:00Z'))).toBe(-4);
    const berlin = { tzOffsetHours: 1, daylightSaving: 'europe' as const };
    expect(utcOffsetAt(berlin, at('2025-10-26T00:00:00Z'))).toBe(2);
    expect(utcOffsetAt(berlin, at('2025-10-26T01:00:00Z'))).toBe(1);
    expect(utcOffsetAt({ tzOffsetHours: 9, daylightSaving: undefined }, at('2025-07-01T00:00:00Z'))).toBe(9);
  });

  it('keeps a quiet organization free of incidents but outages, and new keys that start material', () => {
    const quiet = simulateOrganization({ seed: 7, incidents: false });
    const tokens = tokensIn(quiet);
    const newKeys = quiet.labels.incidents.filter((i) => i.kind === 'new_key');
    expect(
      quiet.labels.incidents.every((i) => (i.kind === 'outage' && i.ignore) || i.kind === 'new_key'),
    ).toBe(true);
    // Keys meant to start small and grow, whose weekly job or first burst comes once they have grown: a
    // new key with material usage all the same, labelled at that hour (within its first three of use).
    expect(newKeys.length).toBeGreaterThan(0);
    for (const label of newKeys) {
      expect(tokens(label.start, label.api_key_id)).toBeGreaterThanOrEqual(200_000);
      let usedBefore = 0;
      for (let h = quiet.start; h < label.start; h += HOUR) if (tokens(h, label.api_key_id) > 0) usedBefore++;
      expect(usedBefore).toBeLessThan(3);
    }
  });
});

describe('renderUsagePages', () => {
  it("renders the API's own pages that read back to exactly the organization's usage", () => {
    const range = { start: org.start + 160 * HOUR, end: org.start + 340 * HOUR };
    const pages = renderUsagePages(org, { ...range, maxResultsPerPage: 500 });
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(usagePageSchema.safeParse(page).success).toBe(true);
    expect(pages.at(-1)?.has_more).toBe(false);
    expect(pages.slice(0, -1).every((p) => p.has_more && p.next_page)).toBe(true);
    const hours = usageHoursFromPages(
      pages.map((p) => usagePageSchema.parse(JSON.parse(JSON.stringify(p)))),
      range,
    );
    expect(hours).toHaveLength(180);
    for (const hour of hours) expect(sortedRows(hour.rows)).toEqual(sortedRows(org.usageAt(hour.start)));
  });

  it('generates a large organization hour quickly enough to serve (10,000 keys)', () => {
    const big = simulateOrganization({ seed: 9, keys: 10_000 });
    const rows = big.usageAt(big.start + 200 * HOUR);
    expect(rows.length).toBeGreaterThan(3_000);
    expect(big.labels.series).toBeGreaterThanOrEqual(10_000);
  });
});
