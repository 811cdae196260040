// The series with an open incident (pk "meta", sk "open-incidents"): they are evaluated every hour,
// present in the usage or not, so an incident resolves even when its key went silent.
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SeriesId } from '../detection/series-metrics.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

const KEY = { [PARTITION_KEY]: { S: 'meta' }, [SORT_KEY]: { S: 'open-incidents' } };

export class OpenIncidentsIndex {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async read(): Promise<SeriesId[]> {
    const res = await this.#client.send(
      new GetItemCommand({ TableName: this.#tableName, Key: KEY, ConsistentRead: true }),
    );
    const text = res.Item?.series?.S;
    if (!text) return [];
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    const out: SeriesId[] = [];
    for (const entry of parsed) {
      if (
        Array.isArray(entry) &&
        typeof entry[0] === 'string' &&
        (typeof entry[1] === 'string' || entry[1] === null)
      ) {
        out.push({ projectId: entry[0], apiKeyId: entry[1] });
      }
    }
    return out;
  }

  async write(ids: SeriesId[]): Promise<void> {
    const series = JSON.stringify(ids.map((id) => [id.projectId, id.apiKeyId]));
    await this.#client.send(
      new PutItemCommand({ TableName: this.#tableName, Item: { ...KEY, series: { S: series } } }),
    );
  }
}
