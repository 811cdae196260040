// Validates a raw `usageSentinel` object and turns zod's issues into errors that say what to fix.
import type { z } from 'zod';
import { configSchema, type SentinelConfig } from './config-schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfig(raw: unknown, source = 'usageSentinel'): SentinelConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${describeIssue(issue, raw)}`);
  throw new ConfigError(`Invalid configuration in ${source}:\n${lines.join('\n')}`);
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  const given = valueAt(raw, issue.path);
  const givenText = given === undefined ? 'nothing' : JSON.stringify(given);
  let allowed = issue.message;
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove or correct them (see the configuration table in the README)`;
  }
  if (issue.code === 'invalid_value')
    allowed = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${path}: got ${givenText}; ${allowed}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let here: unknown = raw;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}
