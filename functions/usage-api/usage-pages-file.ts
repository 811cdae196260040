// A file of usage API pages, one JSON page a line, exactly as GET /organization/usage/completions
// returns them: the input of `backtest --input`. Served as a UsageSource so a replay reads it like the API.
import { readFileSync } from 'node:fs';
import type { Deadline, UsageHour, UsageSource } from '../core/usage.ts';
import { describeSchemaIssues, type UsagePage, usagePageSchema } from './usage-page-schema.ts';
import { UsageHourCollector } from './usage-pages-to-hours.ts';

export class UsagePagesFileError extends Error {
  override name = 'UsagePagesFileError';
}

export class UsagePagesFile implements UsageSource {
  readonly #collector = new UsageHourCollector();
  /** The hours the file covers, [start, end). */
  readonly start: number;
  readonly end: number;

  constructor(path: string) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsagePagesFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    text.split('\n').forEach((line, index) => {
      if (line.trim()) this.#collector.addPage(parsePage(line, `${path}:${index + 1}`));
    });
    const hours = this.#collector.allHours();
    if (hours.length === 0) throw new UsagePagesFileError(`${path} holds no usage buckets`);
    this.start = hours[0]?.start ?? 0;
    this.end = (hours.at(-1)?.start ?? 0) + 3600;
  }

  async readHours(range: { start: number; end: number }, _deadline: Deadline): Promise<UsageHour[]> {
    return this.#collector.hours(range);
  }
}

function parsePage(line: string, where: string): UsagePage {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new UsagePagesFileError(`${where}: not JSON (each line must be one usage API page)`);
  }
  const parsed = usagePageSchema.safeParse(json);
  if (!parsed.success)
    throw new UsagePagesFileError(`${where}: not a usage page: ${describeSchemaIssues(parsed.error)}`);
  return parsed.data;
}
