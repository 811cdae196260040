// Project and API key names for ids, so alerts read "checkout / prod-backend" rather than bare ids.
// Names are cosmetic: every failure (no permission, no name, an outage) falls back to ids, never fails a run.
import type { SeriesNames } from '../core/alert.ts';
import type { Deadline } from '../core/usage.ts';
import { AdminApiClient, type AdminApiClientOptions, type ApiLogger } from './admin-api-client.ts';
import { UsageApiError } from './usage-api-error.ts';
import { projectApiKeyListSchema, projectListSchema } from './usage-page-schema.ts';

/** Only id -> name maps, so the cached copy stays small. */
export interface NameDirectory {
  /** Project id -> name. */
  projects: Record<string, string>;
  /** API key id -> its name and redacted value (as the API shows it, never a whole key). */
  apiKeys: Record<string, { name?: string; redacted?: string }>;
  /** Set when only part of a huge organization was kept. */
  truncated?: boolean;
}

export type NameLookup = (projectId: string, apiKeyId: string | null) => SeriesNames;

export interface NameCache {
  read(): Promise<{ fetchedAt: number; directory: NameDirectory } | undefined>;
  /** `fetchedAt` in epoch ms. */
  write(entry: { fetchedAt: number; directory: NameDirectory }): Promise<void>;
}

export const EMPTY_NAME_DIRECTORY: NameDirectory = { projects: {}, apiKeys: {} };
const DAY_MS = 86_400_000;
const LIST_LIMIT = 100;
/** Projects whose keys are listed at the same time. */
const KEY_LISTING_CONCURRENCY = 4;

export function nameLookup(directory: NameDirectory): NameLookup {
  return (projectId, apiKeyId) => {
    const names: SeriesNames = {};
    const project = directory.projects[projectId];
    if (project) names.project = project;
    const key = apiKeyId === null ? undefined : directory.apiKeys[apiKeyId];
    if (key?.name) names.apiKey = key.name;
    if (key?.redacted) names.redactedKey = key.redacted;
    return names;
  };
}

export interface OpenAiNameDirectoryOptions extends AdminApiClientOptions {
  cache?: NameCache;
  /** How long a cached directory is used before it is listed again. Default one day. */
  maxAgeMs?: number;
  /** Epoch ms; injectable for tests. */
  nowMs?: () => number;
}

export class OpenAiNameDirectory {
  readonly #client: AdminApiClient;
  readonly #cache: NameCache | undefined;
  readonly #maxAgeMs: number;
  readonly #nowMs: () => number;
  readonly #logger: ApiLogger | undefined;

  constructor(options: OpenAiNameDirectoryOptions) {
    this.#client = new AdminApiClient(options);
    this.#cache = options.cache;
    this.#maxAgeMs = options.maxAgeMs ?? DAY_MS;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#logger = options.logger;
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  /** Names from the cache while it is fresh, else listed from the API (and cached); ids on any failure. */
  async lookup(deadline: Deadline = { atMs: Date.now() + 60_000 }): Promise<NameLookup> {
    return nameLookup(await this.directory(deadline));
  }

  async directory(deadline: Deadline = { atMs: Date.now() + 60_000 }): Promise<NameDirectory> {
    const cached = await this.#readCache();
    if (cached && this.#nowMs() - cached.fetchedAt < this.#maxAgeMs) return cached.directory;
    try {
      const directory = await this.list(deadline);
      await this.#writeCache({ fetchedAt: this.#nowMs(), directory });
      return directory;
    } catch (error) {
      const reason = error instanceof UsageApiError ? error.message : 'unexpected error';
      // 401/403: an admin key without the projects scope; names are optional, so this stays quiet.
      if (!(error instanceof UsageApiError && error.kind === 'auth')) {
        this.#logger?.warn('Project and key names unavailable; alerts show ids', { reason });
      }
      return cached?.directory ?? EMPTY_NAME_DIRECTORY;
    }
  }

  /** Lists every project (archived ones too) and each project's keys. Throws UsageApiError. */
  async list(deadline: Deadline): Promise<NameDirectory> {
    const directory: NameDirectory = { projects: {}, apiKeys: {} };
    const projectIds: string[] = [];
    let after: string | undefined;
    do {
      const query: Array<[string, string]> = [
        ['limit', String(LIST_LIMIT)],
        ['include_archived', 'true'],
      ];
      if (after) query.push(['after', after]);
      const page = await this.#client.getJson('/organization/projects', query, projectListSchema, deadline);
      for (const project of page.data) {
        projectIds.push(project.id);
        if (project.name) directory.projects[project.id] = project.name;
      }
      after = nextCursor(page, after);
    } while (after);

    const queue = [...projectIds];
    const worker = async (): Promise<void> => {
      for (let projectId = queue.shift(); projectId !== undefined; projectId = queue.shift()) {
        await this.#listKeys(projectId, directory, deadline);
      }
    };
    await Promise.all(Array.from({ length: KEY_LISTING_CONCURRENCY }, worker));
    return directory;
  }

  async #listKeys(projectId: string, directory: NameDirectory, deadline: Deadline): Promise<void> {
    const path = `/organization/projects/${encodeURIComponent(projectId)}/api_keys`;
    let after: string | undefined;
    try {
      do {
        const query: Array<[string, string]> = [
          ['limit', String(LIST_LIMIT)],
          ['owner_project_access', 'any'],
        ];
        if (after) query.push(['after', after]);
        const page = await this.#client.getJson(path, query, projectApiKeyListSchema, deadline);
        for (const key of page.data) {
          const entry: { name?: string; redacted?: string } = {};
          if (key.name) entry.name = key.name;
          if (key.redacted_value) entry.redacted = key.redacted_value;
          directory.apiKeys[key.id] = entry;
        }
        after = nextCursor(page, after);
      } while (after);
    } catch (error) {
      // One project's keys (archived, or restricted) missing must not lose every other name.
      if (error instanceof UsageApiError && error.kind === 'client') return;
      throw error;
    }
  }

  async #readCache(): Promise<{ fetchedAt: number; directory: NameDirectory } | undefined> {
    try {
      return await this.#cache?.read();
    } catch {
      this.#logger?.warn('Name cache unreadable; listing names again');
      return undefined;
    }
  }

  async #writeCache(entry: { fetchedAt: number; directory: NameDirectory }): Promise<void> {
    try {
      await this.#cache?.write(entry);
    } catch {
      this.#logger?.warn('Name cache not written; names will be listed again next run');
    }
  }
}

/** `after` for the next list page: the page's last_id while has_more (and only when it moves on). */
function nextCursor(
  page: { has_more: boolean; last_id?: string | null | undefined; data: ReadonlyArray<{ id: string }> },
  previous: string | undefined,
): string | undefined {
  if (!page.has_more) return undefined;
  const last = page.last_id ?? page.data.at(-1)?.id;
  return last && last !== previous ? last : undefined;
}
