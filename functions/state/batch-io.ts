// BatchGetItem (100 keys) and BatchWriteItem (25 items) with bounded parallelism, retrying what
// DynamoDB leaves unprocessed with exponential backoff and jitter.
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export interface BatchOptions {
  /** Requests in flight at once. */
  parallelism?: number;
  /** Attempts per chunk before giving up on what is still unprocessed. */
  maxAttempts?: number;
  /** First backoff in ms; doubles each attempt. */
  baseDelayMs?: number;
}

const GET_CHUNK = 100;
const WRITE_CHUNK = 25;

export class UnprocessedItemsError extends Error {
  override name = 'UnprocessedItemsError';
}

export async function batchGetItems(
  client: DynamoDBClient,
  tableName: string,
  keys: Item[],
  options: BatchOptions = {},
): Promise<Item[]> {
  const out: Item[] = [];
  await forEachChunk(keys, GET_CHUNK, options.parallelism, async (chunk) => {
    let pending: Item[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, options);
      const res = await client.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      out.push(...(res.Responses?.[tableName] ?? []));
      pending = res.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (pending.length > 0 && attempt >= (options.maxAttempts ?? 8)) {
        throw new UnprocessedItemsError(
          `BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`,
        );
      }
    }
  });
  return out;
}

export async function batchPutItems(
  client: DynamoDBClient,
  tableName: string,
  items: Item[],
  options: BatchOptions = {},
): Promise<void> {
  await forEachChunk(items, WRITE_CHUNK, options.parallelism, async (chunk) => {
    let pending: WriteRequest[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await backoff(attempt, options);
      const res = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName] ?? [];
      if (pending.length > 0 && attempt >= (options.maxAttempts ?? 8)) {
        throw new UnprocessedItemsError(
          `BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`,
        );
      }
    }
  });
}

async function forEachChunk<T>(
  items: T[],
  size: number,
  parallelism: number | undefined,
  work: (chunk: T[]) => Promise<void>,
): Promise<void> {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      if (chunk) await work(chunk);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism ?? 8, chunks.length) }, worker));
}

function backoff(attempt: number, options: BatchOptions): Promise<void> {
  const base = options.baseDelayMs ?? 50;
  const ms = Math.min(5_000, base * 2 ** (attempt - 2)) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
