import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGetItems, batchPutItems, UnprocessedItemsError } from '../../functions/state/batch-io.ts';

const ddb = mockClient(DynamoDBClient);
afterEach(() => ddb.reset());

const item = (i: number) => ({ pk: { S: `series#p#k${i}` }, sk: { S: 'state' } });

describe('batch I/O', () => {
  it('writes in chunks of 25 and retries unprocessed items until they are written', async () => {
    const leftOver = [{ PutRequest: { Item: item(3) } }];
    ddb
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { t: leftOver } })
      .resolves({ UnprocessedItems: {} });
    await batchPutItems(
      new DynamoDBClient({ region: 'local' }),
      't',
      Array.from({ length: 30 }, (_, i) => item(i)),
      {
        baseDelayMs: 1,
        parallelism: 1,
      },
    );
    const calls = ddb.commandCalls(BatchWriteItemCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems?.t?.length)).toEqual([25, 1, 5]);
    expect(calls[1]?.args[0].input.RequestItems?.t).toEqual(leftOver);
  });

  it('gives up with a clear error when items stay unprocessed', async () => {
    ddb.on(BatchWriteItemCommand).resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: item(1) } }] } });
    await expect(
      batchPutItems(new DynamoDBClient({ region: 'local' }), 't', [item(1)], {
        baseDelayMs: 1,
        maxAttempts: 3,
      }),
    ).rejects.toThrow(UnprocessedItemsError);
    expect(ddb.commandCalls(BatchWriteItemCommand)).toHaveLength(3);
  });

  it('reads in chunks of 100 and retries unprocessed keys', async () => {
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({ Responses: { t: [item(1)] }, UnprocessedKeys: { t: { Keys: [item(2)] } } })
      .resolves({ Responses: { t: [item(2)] } });
    const got = await batchGetItems(new DynamoDBClient({ region: 'local' }), 't', [item(1), item(2)], {
      baseDelayMs: 1,
    });
    expect(got).toHaveLength(2);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(2);
  });
});
