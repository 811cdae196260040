// DynamoDB on loopback through dynalite: the embedded store of the CLI and the tests' real stand-in.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { PARTITION_KEY, SORT_KEY } from '../state/table-schema.ts';
import { listenOnLoopback } from './listen-on-loopback.ts';

export interface EmbeddedDynamoDb {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (a free port). `path` keeps the data on disk; without it, in memory. */
export async function startEmbeddedDynamoDb(options: { path?: string } = {}): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: options.path });
  return {
    endpoint: await listenOnLoopback(server),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client for a local endpoint; dynalite accepts any credentials. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates the state table as the stack defines it, unless it exists. */
export async function ensureStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return await waitUntilActive(client, tableName);
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
    }),
  );
  await waitUntilActive(client, tableName);
  // dynalite has no UpdateTimeToLive; expiry is a server-side sweep that only matters when deployed.
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become active`);
}
