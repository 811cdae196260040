import { describe, expect, it } from 'vitest';
import { RunStateStore, WatermarkConflictError } from '../../functions/state/run-state-store.ts';
import { useLocalDynamoDb } from '../support/local-dynamodb.ts';

const dynamo = useLocalDynamoDb();

describe('RunStateStore', () => {
  it('grants the lease to one owner; a second is refused until it expires or is released', async () => {
    const store = new RunStateStore(dynamo.client, await dynamo.freshTable('lease'));
    const t0 = 1_760_000_000_000;
    expect(await store.acquireLease('run-a', t0, 300)).toBe(true);
    expect(await store.acquireLease('run-b', t0 + 1000, 300)).toBe(false);
    // Re-entrant for its owner.
    expect(await store.acquireLease('run-a', t0 + 2000, 300)).toBe(true);
    // Expired: run-a's last lease ran until t0 + 2000 + 300 s.
    expect(await store.acquireLease('run-b', t0 + 2000 + 299_000, 300)).toBe(false);
    expect(await store.acquireLease('run-b', t0 + 2000 + 300_000, 300)).toBe(true);
    // Releasing someone else's lease does nothing; releasing one's own frees it.
    await store.releaseLease('run-a');
    expect(await store.acquireLease('run-a', t0 + 400_000, 300)).toBe(false);
    await store.releaseLease('run-b');
    expect(await store.acquireLease('run-a', t0 + 400_000, 300)).toBe(true);
  });

  it('advances the watermark only from the expected value', async () => {
    const store = new RunStateStore(dynamo.client, await dynamo.freshTable('watermark'));
    expect(await store.readWatermark()).toBeUndefined();
    await store.advanceWatermark(undefined, 3600);
    expect(await store.readWatermark()).toBe(3600);
    await expect(store.advanceWatermark(undefined, 7200)).rejects.toThrow(WatermarkConflictError);
    await expect(store.advanceWatermark(0, 7200)).rejects.toThrow(/Watermark conflict/);
    await store.advanceWatermark(3600, 7200);
    expect(await store.readWatermark()).toBe(7200);
  });
});
