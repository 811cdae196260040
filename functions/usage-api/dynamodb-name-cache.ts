// The name directory cached as one item of the state table (pk "names", sk "directory"), gzipped JSON.
// DynamoDB items stop at 400 KB: a directory too large keeps every project and as many keys as fit,
// and says so (`truncated`); the missing keys show as ids.
import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../state/table-schema.ts';
import type { ApiLogger } from './admin-api-client.ts';
import type { NameCache, NameDirectory } from './name-directory.ts';

const KEY = { [PARTITION_KEY]: { S: 'names' }, [SORT_KEY]: { S: 'directory' } };
/** Room under DynamoDB's 400 KB item limit for the other attributes and the attribute names. */
export const MAX_DIRECTORY_BYTES = 350 * 1024;

const directorySchema = z.object({
  projects: z.record(z.string(), z.string()),
  apiKeys: z.record(z.string(), z.object({ name: z.string().optional(), redacted: z.string().optional() })),
  truncated: z.boolean().optional(),
});

export interface DynamoDbNameCacheOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The item expires (DynamoDB TTL) this long after it was written. Default two days. */
  ttlSeconds?: number;
  logger?: ApiLogger;
}

export class DynamoDbNameCache implements NameCache {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #ttlSeconds: number;
  readonly #logger: ApiLogger | undefined;

  constructor(options: DynamoDbNameCacheOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#ttlSeconds = options.ttlSeconds ?? 2 * 86_400;
    this.#logger = options.logger;
  }

  async read(): Promise<{ fetchedAt: number; directory: NameDirectory } | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: KEY, ConsistentRead: true }),
    );
    const fetchedAt = Number(Item?.fetchedAt?.N);
    const blob = Item?.directory?.B;
    if (!blob || !Number.isFinite(fetchedAt)) return undefined;
    const parsed = directorySchema.safeParse(JSON.parse(gunzipSync(blob).toString('utf8')));
    if (!parsed.success) return undefined;
    return { fetchedAt, directory: parsed.data };
  }

  async write(entry: { fetchedAt: number; directory: NameDirectory }): Promise<void> {
    const { blob, directory } = fitDirectory(entry.directory, MAX_DIRECTORY_BYTES);
    if (directory.truncated) {
      this.#logger?.warn('Name directory too large for one item; some keys will show as ids', {
        keptKeys: Object.keys(directory.apiKeys).length,
        allKeys: Object.keys(entry.directory.apiKeys).length,
      });
    }
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#tableName,
        Item: {
          ...KEY,
          fetchedAt: { N: String(entry.fetchedAt) },
          directory: { B: blob },
          truncated: { BOOL: directory.truncated === true },
          [TTL_ATTRIBUTE]: { N: String(Math.floor(entry.fetchedAt / 1000) + this.#ttlSeconds) },
        },
      }),
    );
  }
}

/** Gzipped JSON of the directory, cut to the keys that fit in `maxBytes` (a binary search on the count). */
export function fitDirectory(
  directory: NameDirectory,
  maxBytes: number,
): { blob: Uint8Array; directory: NameDirectory } {
  const encode = (d: NameDirectory): Uint8Array => gzipSync(JSON.stringify(d));
  const whole = encode(directory);
  if (whole.byteLength <= maxBytes) return { blob: whole, directory };

  const keys = Object.entries(directory.apiKeys);
  const withKeys = (count: number): NameDirectory => ({
    projects: directory.projects,
    apiKeys: Object.fromEntries(keys.slice(0, count)),
    truncated: true,
  });
  let low = 0;
  let high = keys.length;
  let best = encode(withKeys(0));
  if (best.byteLength > maxBytes) {
    // Even the projects alone are too many: keep as many projects as fit, no keys.
    const projects = Object.entries(directory.projects);
    let count = projects.length;
    let cut: NameDirectory = { projects: {}, apiKeys: {}, truncated: true };
    do {
      count = Math.floor(count / 2);
      cut = { projects: Object.fromEntries(projects.slice(0, count)), apiKeys: {}, truncated: true };
      best = encode(cut);
    } while (best.byteLength > maxBytes && count > 0);
    return { blob: best, directory: cut };
  }
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const blob = encode(withKeys(mid));
    if (blob.byteLength <= maxBytes) {
      low = mid;
      best = blob;
    } else high = mid - 1;
  }
  return { blob: best, directory: withKeys(low) };
}
