// Series states in the state table: one item a series (pk "series#<project>#<key|->", sk "state"),
// holding the encoded state, the last hour applied and a TTL 30 days after the series was last seen.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SeriesId } from '../detection/series-metrics.ts';
import { seriesKey } from '../detection/series-metrics.ts';
import type { SeriesState } from '../detection/series-state.ts';
import { decodeSeriesState, encodeSeriesState } from '../detection/series-state-codec.ts';
import { type BatchOptions, batchGetItems, batchPutItems, type Item } from './batch-io.ts';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';

export const SERIES_TTL_SECONDS = 30 * 86_400;
const STATE_SORT_KEY = 'state';

export const seriesPartitionKey = (id: SeriesId): string => `series#${seriesKey(id)}`;

export class SeriesStateStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #options: BatchOptions;

  constructor(client: DynamoDBClient, tableName: string, options: BatchOptions = {}) {
    this.#client = client;
    this.#tableName = tableName;
    this.#options = options;
  }

  /** States by series key; series with no item are absent from the map. */
  async loadMany(ids: SeriesId[]): Promise<Map<string, SeriesState>> {
    const keys: Item[] = ids.map((id) => ({
      [PARTITION_KEY]: { S: seriesPartitionKey(id) },
      [SORT_KEY]: { S: STATE_SORT_KEY },
    }));
    const items = await batchGetItems(this.#client, this.#tableName, keys, this.#options);
    const out = new Map<string, SeriesState>();
    for (const item of items) {
      const pk = item[PARTITION_KEY]?.S;
      const encoded = item.s?.S;
      if (pk?.startsWith('series#') && encoded)
        out.set(pk.slice('series#'.length), decodeSeriesState(encoded));
    }
    return out;
  }

  async saveMany(entries: Array<{ id: SeriesId; state: SeriesState }>): Promise<void> {
    const items: Item[] = entries.map(({ id, state }) => toItem(id, state));
    await batchPutItems(this.#client, this.#tableName, items, this.#options);
  }
}

export function toItem(id: SeriesId, state: SeriesState): Item {
  return {
    [PARTITION_KEY]: { S: seriesPartitionKey(id) },
    [SORT_KEY]: { S: STATE_SORT_KEY },
    s: { S: encodeSeriesState(state) },
    h: { N: String(state.lastHour * 3600) },
    [TTL_ATTRIBUTE]: { N: String((state.lastSeenHour + 1) * 3600 + SERIES_TTL_SECONDS) },
  };
}
