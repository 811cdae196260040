// The run's own state: a lease so only one run evaluates at a time, and the watermark (the last hour
// evaluated), both advanced with conditional writes so two runs can never both win.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';

const metaKey = (sk: string) => ({ [PARTITION_KEY]: { S: 'meta' }, [SORT_KEY]: { S: sk } });

export class WatermarkConflictError extends Error {
  override name = 'WatermarkConflictError';
}

export class RunStateStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  /** Takes the lease when it is free, expired, or already ours; false when another owner holds it. */
  async acquireLease(owner: string, nowMs: number, ttlSeconds: number): Promise<boolean> {
    const expiresAtMs = nowMs + ttlSeconds * 1000;
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: {
            ...metaKey('lease'),
            owner: { S: owner },
            leaseExpiresAtMs: { N: String(expiresAtMs) },
            // DynamoDB's TTL sweeps a forgotten lease long after it stopped mattering.
            [TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAtMs / 1000) + 86_400) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#exp': 'leaseExpiresAtMs', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': { N: String(nowMs) }, ':owner': { S: owner } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease back if it is still ours; someone else's lease is left alone. */
  async releaseLease(owner: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: metaKey('lease'),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The start (unix seconds) of the last hour evaluated; undefined before the first run. */
  async readWatermark(): Promise<number | undefined> {
    const res = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: metaKey('watermark'), ConsistentRead: true }),
    );
    const value = res.Item?.hour?.N;
    return value === undefined ? undefined : Number(value);
  }

  /** Moves the watermark from `expected` to `next`; throws WatermarkConflictError if it moved meanwhile. */
  async advanceWatermark(expected: number | undefined, next: number): Promise<void> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: { ...metaKey('watermark'), hour: { N: String(next) } },
          ...(expected === undefined
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PARTITION_KEY },
              }
            : {
                ConditionExpression: '#hour = :expected',
                ExpressionAttributeNames: { '#hour': 'hour' },
                ExpressionAttributeValues: { ':expected': { N: String(expected) } },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new WatermarkConflictError(
          `Watermark conflict: expected ${expected === undefined ? 'none' : new Date(expected * 1000).toISOString()}, ` +
            `but another run moved it; this run's hours are evaluated again by the next run`,
        );
      }
      throw error;
    }
  }
}
