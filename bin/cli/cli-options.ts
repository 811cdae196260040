// What every command shares: times, the configuration file, the API base and the admin key.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { DEFAULT_API_BASE } from '../../functions/usage-api/admin-api-client.ts';

/** A mistake in what the user typed: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Unix seconds or ISO 8601, as ../CONTRACT.md sets out. */
export function parseTime(value: string, flag: string): number {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.floor(Number(trimmed));
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not a time: give unix seconds or ISO 8601 (2026-11-01T00:00Z)`,
    );
  }
  return Math.floor(ms / 1000);
}

/** `--config FILE`: a cdk.json (its context key usageSentinel) or a JSON file of that object. */
export function loadConfig(path: string | undefined): SentinelConfig {
  const file = resolve(path ?? resolve(PROJECT_ROOT, 'cdk.json'));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the configuration file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the configuration file ${file} is not JSON: ${(error as Error).message}`);
  }
  const context = (raw as { context?: { usageSentinel?: unknown } } | null)?.context;
  const isCdkJson = context !== undefined || (raw !== null && typeof raw === 'object' && 'app' in raw);
  return parseConfig(isCdkJson ? (context?.usageSentinel ?? {}) : raw, file);
}

export function resolveApiBase(flag: string | undefined): string {
  const base = flag ?? process.env.OPENAI_BASE_URL ?? DEFAULT_API_BASE;
  try {
    const url = new URL(base);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
  } catch {
    throw new UsageError(`--api-base ${JSON.stringify(base)} is not an http(s) URL`);
  }
  return base.replace(/\/+$/, '');
}

/** The admin key comes only from the environment, never from a flag, and is never printed. */
export function requireAdminKey(): string {
  const key = process.env.OPENAI_ADMIN_KEY?.trim();
  if (!key) {
    throw new UsageError(
      'OPENAI_ADMIN_KEY is not set: export an organization admin key (sk-admin-...) in the environment',
    );
  }
  return key;
}
