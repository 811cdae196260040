// Shared by the usage API tests: row comparison and a logger that keeps every line it is given.

import type { UsageRow } from '../../functions/core/usage.ts';
import type { ApiLogger } from '../../functions/usage-api/admin-api-client.ts';

export function sortedRows(rows: readonly UsageRow[]): UsageRow[] {
  const key = (r: UsageRow): string => `${r.projectId}|${r.apiKeyId}|${r.model}`;
  return [...rows]
    .map((r) => ({
      projectId: r.projectId,
      apiKeyId: r.apiKeyId,
      model: r.model,
      inputTokens: r.inputTokens,
      cachedInputTokens: r.cachedInputTokens,
      outputTokens: r.outputTokens,
      requests: r.requests,
    }))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export interface CapturingLogger extends ApiLogger {
  lines: string[];
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(extra ?? {})}`);
  };
  return { lines, debug: keep('debug'), warn: keep('warn') };
}

export const HOUR = 3600;
