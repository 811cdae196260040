// Per day, the estimated USD of each project summed over the hours evaluated, so the daily Costs check
// can compare them with what OpenAI billed. One item a day; each hour is added once (the item lists the
// hours it holds), with an optimistic version so two writers cannot lose each other's hours.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';

const KEEP_DAYS = 8;
const DAY_SECONDS = 86_400;

export interface DailyEstimate {
  /** Unix seconds of the day's start (UTC). */
  day: number;
  hours: number[];
  usdByProject: Record<string, number>;
}

export class DailyEstimateStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async read(day: number): Promise<DailyEstimate & { version: number }> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: this.#key(day), ConsistentRead: true }),
    );
    if (!Item?.data?.S) return { day, hours: [], usdByProject: {}, version: 0 };
    const data = JSON.parse(Item.data.S) as Omit<DailyEstimate, 'day'>;
    return { day, ...data, version: Number(Item.version?.N ?? 0) };
  }

  /** Adds one hour's estimates; an hour already held changes nothing. */
  async addHour(hour: number, usdByProject: ReadonlyMap<string, number>): Promise<void> {
    const day = Math.floor(hour / DAY_SECONDS) * DAY_SECONDS;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.read(day);
      if (current.hours.includes(hour)) return;
      const usd = { ...current.usdByProject };
      for (const [project, value] of usdByProject) usd[project] = (usd[project] ?? 0) + value;
      try {
        await this.#client.send(
          new PutItemCommand({
            TableName: this.#tableName,
            Item: {
              ...this.#key(day),
              data: { S: JSON.stringify({ hours: [...current.hours, hour], usdByProject: usd }) },
              version: { N: String(current.version + 1) },
              [TTL_ATTRIBUTE]: { N: String(day + KEEP_DAYS * DAY_SECONDS) },
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR #version = :version',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#version': 'version' },
            ExpressionAttributeValues: { ':version': { N: String(current.version) } },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new Error('daily cost estimate: concurrent writers kept conflicting');
  }

  /** Claims the day's Costs check: true for exactly one caller per day. */
  async claimCheck(day: number): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: {
            [PARTITION_KEY]: { S: 'meta' },
            [SORT_KEY]: { S: 'cost-check' },
            day: { N: String(day) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #day < :day',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#day': 'day' },
          ExpressionAttributeValues: { ':day': { N: String(day) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  #key(day: number) {
    return {
      [PARTITION_KEY]: { S: 'meta' },
      [SORT_KEY]: { S: `estimate#${new Date(day * 1000).toISOString().slice(0, 10)}` },
    };
  }
}
