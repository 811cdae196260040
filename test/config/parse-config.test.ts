import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../functions/config/config-schema.ts';
import { ConfigError, parseConfig } from '../../functions/config/parse-config.ts';
import { detectionSettingsFor } from '../../functions/detection/detection-settings.ts';

const errorOf = (raw: unknown): string => {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('fills every default from an empty object', () => {
    const config = parseConfig({});
    expect(config.schedule).toEqual({ minute: 10, graceMinutes: 10 });
    expect(config.watch.batch).toBe('include');
    expect(config.notifications).toMatchObject({ recoveryNotices: true, timeZone: 'UTC', emails: [] });
    expect(config.detection.minExcessTokens).toBe(50_000);
    expect(config.prices.fallback).toEqual({ input: 2.5, cachedInput: 1.25, output: 10 });
  });

  it('names the field, what was given and what is allowed', () => {
    expect(errorOf({ schedule: { minute: 75 } })).toContain(
      'schedule.minute: got 75; Too big: expected number to be <=59',
    );
    expect(errorOf({ watch: { batch: 'yes' } })).toContain(
      'watch.batch: got "yes"; one of "include", "exclude", "only"',
    );
    expect(errorOf({ notifications: { timeZone: 'Mars/Olympus' } })).toContain(
      'notifications.timeZone: got "Mars/Olympus"; must be an IANA time zone',
    );
    expect(errorOf({ secrets: { slackWebhookArn: 'https://hooks.slack.com/x' } })).toContain(
      'secrets.slackWebhookArn: got "https://hooks.slack.com/x"; must be a Secrets Manager secret ARN',
    );
    expect(errorOf({ detection: { sensitivty: 3 } })).toContain('detection: unknown key(s) "sensitivty"');
    expect(errorOf({ mutes: [{ until: '2026-12-01' }] })).toContain(
      'mutes.0: got {"until":"2026-12-01"}; a mute needs',
    );
  });

  it('lists every problem at once', () => {
    const message = errorOf({ schedule: { minute: -1, graceMinutes: 500 } });
    expect(message).toContain('schedule.minute');
    expect(message).toContain('schedule.graceMinutes');
  });

  it('lets overrides name only what they change: key over project over the top level', () => {
    const config = parseConfig({
      detection: { sensitivity: 8, minRatio: 3 },
      overrides: { projects: { proj_a: { minRatio: 4 } }, apiKeys: { key_1: { sensitivity: 3 } } },
    });
    expect(config.overrides.projects.proj_a).toEqual({ minRatio: 4 });
    expect(detectionSettingsFor(config, { projectId: 'proj_a', apiKeyId: 'key_1' })).toMatchObject({
      sensitivity: 3,
      minRatio: 4,
    });
    expect(detectionSettingsFor(config, { projectId: 'proj_a', apiKeyId: 'key_2' })).toMatchObject({
      sensitivity: 8,
      minRatio: 4,
    });
    expect(detectionSettingsFor(config, { projectId: 'proj_b', apiKeyId: null })).toMatchObject({
      sensitivity: 8,
      minRatio: 3,
    });
  });

  it('is documented: every key of the schema has a row in the README configuration table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
    const missing: string[] = [];
    for (const [section, schema] of Object.entries(configSchema.shape)) {
      const inner = (schema as { unwrap?: () => unknown }).unwrap?.() as
        | { shape?: Record<string, unknown> }
        | undefined;
      const keys = inner?.shape ? Object.keys(inner.shape) : [];
      if (keys.length === 0) {
        if (![...rows].some((row) => row?.startsWith(section))) missing.push(section);
        continue;
      }
      for (const key of keys) {
        const path = `${section}.${key}`;
        if (![...rows].some((row) => row === path || row?.startsWith(`${path}.`))) missing.push(path);
      }
    }
    expect(missing).toEqual([]);
  });
});
