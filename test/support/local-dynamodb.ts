// One dynalite per test file, started before its tests and stopped after them, with a fresh state table
// for each test that asks, so tests in a file never see each other's items.
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import {
  type EmbeddedDynamoDb,
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';

export interface LocalDynamoDb {
  /** A client of the running dynalite (read it inside a test or a hook, once beforeAll has run). */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Creates a state table, as the stack defines it, named `prefix-<uuid>`; resolves with the name. */
  freshTable(prefix: string): Promise<string>;
}

/** Registers beforeAll/afterAll hooks in the calling file or describe block. */
export function useLocalDynamoDb(): LocalDynamoDb {
  let db: EmbeddedDynamoDb | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    db = await startEmbeddedDynamoDb();
    client = localDynamoDbClient(db.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await db?.stop();
  });
  const running = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('local DynamoDB is not running: use it inside a test or hook');
    return value;
  };
  const local: LocalDynamoDb = {
    get client() {
      return running(client);
    },
    get endpoint() {
      return running(db).endpoint;
    },
    freshTable: async (prefix) => {
      const tableName = `${prefix}-${randomUUID()}`;
      await ensureStateTable(local.client, tableName);
      return tableName;
    },
  };
  return local;
}
