// Where `run` keeps its state: the embedded DynamoDB under a folder by default, so it runs from cron
// without AWS, or any DynamoDB endpoint given on the command line.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { UsageError } from './cli-options.ts';

export const EMBEDDED_TABLE = 'usage-sentinel';

export interface StateConnection {
  client: DynamoDBClient;
  tableName: string;
  describe: string;
  close(): Promise<void>;
}

export async function openState(options: {
  endpoint?: string | undefined;
  table?: string | undefined;
  createTable?: boolean;
  stateDir?: string | undefined;
}): Promise<StateConnection> {
  if (options.endpoint) {
    if (!options.table) throw new UsageError('--dynamodb-endpoint needs --table NAME');
    // The SDK's normal credential and region chain; only the endpoint is the user's.
    const client = new DynamoDBClient({
      endpoint: options.endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
    });
    if (options.createTable) await ensureStateTable(client, options.table);
    return {
      client,
      tableName: options.table,
      describe: `table ${options.table} at ${options.endpoint}`,
      close: async () => client.destroy(),
    };
  }
  if (options.table && !options.endpoint) throw new UsageError('--table goes with --dynamodb-endpoint');
  const dir = resolve(options.stateDir ?? '.usage-sentinel');
  mkdirSync(dir, { recursive: true });
  const store = await startEmbeddedDynamoDb({ path: resolve(dir, 'dynamodb') });
  const client = localDynamoDbClient(store.endpoint);
  await ensureStateTable(client, EMBEDDED_TABLE);
  return {
    client,
    tableName: EMBEDDED_TABLE,
    describe: `embedded store in ${dir}`,
    close: async () => {
      client.destroy();
      await store.stop();
    },
  };
}
