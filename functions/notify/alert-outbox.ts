// The outbox: every alert is written to the state table before anything is sent, with one delivery mark
// per channel, so a failed or interrupted delivery is finished by a later run and a re-evaluated hour
// records nothing new.
//
//   pk "outbox"  sk "<bucketStart, 12 digits>#<alert id>"   (oldest first in a Query)
//   alert        S  the Alert as JSON
//   <channel>Status  S  pending | sending | sent | muted | skipped | expired
//   <channel>Claim / <channel>ClaimedAt   the run sending it right now (see deliver-alerts.ts)
//   expiresAt    N  TTL, 30 days after recording
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { SentinelConfig } from '../config/config-schema.ts';
import type { Alert } from '../core/alert.ts';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../state/table-schema.ts';
import type { ChannelName } from './delivery-error.ts';
import { coveringMute } from './mutes.ts';

export const OUTBOX_PARTITION = 'outbox';
export const OUTBOX_TTL_SECONDS = 30 * 24 * 3600;
export const CHANNELS: readonly ChannelName[] = ['slack', 'email'];

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'muted' | 'skipped' | 'expired';

export interface OutboxEntry {
  /** The item's sort key; names the entry in claim/markDelivered/release. */
  key: string;
  alert: Alert;
  status: DeliveryStatus;
  /** Set while a run is sending it (status "sending"). */
  claim?: { runId: string; atMs: number };
  attempts: number;
  recordedAtMs: number;
  lastError?: string;
  /** Marked sent after a run died between send and mark (never confirmed). */
  unconfirmed?: boolean;
}

export interface RecordResult {
  recorded: number;
  duplicates: number;
  muted: number;
}

/** What the outbox needs of the configuration (a SentinelConfig fits). */
export interface OutboxConfig {
  mutes: SentinelConfig['mutes'];
  notifications: Pick<SentinelConfig['notifications'], 'recoveryNotices'>;
}

export const outboxKey = (alert: Pick<Alert, 'bucketStart' | 'id'>): string =>
  `${String(alert.bucketStart).padStart(12, '0')}#${alert.id}`;

export class AlertOutbox {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #config: OutboxConfig | undefined;
  readonly #now: () => number;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    config?: OutboxConfig;
    now?: () => number;
  }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#config = options.config;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Writes each alert once (put-if-absent on its deterministic key): recording the same evaluation twice
   * changes nothing. Muted alerts, and recovery notices when those are off, are kept but never sent.
   */
  async record(alerts: readonly Alert[]): Promise<RecordResult> {
    const result: RecordResult = { recorded: 0, duplicates: 0, muted: 0 };
    const nowMs = this.#now();
    for (let i = 0; i < alerts.length; i += 16) {
      await Promise.all(
        alerts.slice(i, i + 16).map(async (alert) => {
          const mute = this.#config ? coveringMute(alert, this.#config.mutes) : undefined;
          const noRecovery =
            alert.type === 'resolved' && this.#config?.notifications.recoveryNotices === false;
          const status: DeliveryStatus = mute ? 'muted' : noRecovery ? 'skipped' : 'pending';
          const stored: Alert = mute ? { ...alert, muted: true } : alert;
          const item: Record<string, AttributeValue> = {
            [PARTITION_KEY]: { S: OUTBOX_PARTITION },
            [SORT_KEY]: { S: outboxKey(alert) },
            alertId: { S: alert.id },
            alertType: { S: alert.type },
            alert: { S: JSON.stringify(stored) },
            recordedAt: { N: String(nowMs) },
            [TTL_ATTRIBUTE]: { N: String(Math.floor(nowMs / 1000) + OUTBOX_TTL_SECONDS) },
          };
          if (mute) item.muted = { BOOL: true };
          if (mute?.reason) item.muteReason = { S: mute.reason.slice(0, 500) };
          for (const channel of CHANNELS) item[`${channel}Status`] = { S: status };
          try {
            await this.#client.send(
              new PutItemCommand({
                TableName: this.#table,
                Item: item,
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PARTITION_KEY },
              }),
            );
            result.recorded++;
            if (mute) result.muted++;
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) result.duplicates++;
            else throw error;
          }
        }),
      );
    }
    return result;
  }

  /**
   * Entries not yet delivered on a channel (pending, or claimed by a run), oldest hour first.
   * One Query of the outbox partition with a filter: the partition holds at most 30 days of alerts.
   */
  async pending(channel: ChannelName): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :outbox',
          FilterExpression: '#status IN (:pending, :sending)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#status': `${channel}Status` },
          ExpressionAttributeValues: {
            ':outbox': { S: OUTBOX_PARTITION },
            ':pending': { S: 'pending' },
            ':sending': { S: 'sending' },
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) entries.push(toEntry(item, channel));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }

  async get(key: string, channel: ChannelName): Promise<OutboxEntry | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: itemKey(key), ConsistentRead: true }),
    );
    return Item ? toEntry(Item, channel) : undefined;
  }

  /** Takes a pending entry for one run ("sending"); false when it is not pending any more. */
  async claim(key: string, channel: ChannelName, runId: string, nowMs = this.#now()): Promise<boolean> {
    return this.#update(
      key,
      'SET #status = :sending, #claim = :run, #claimedAt = :now ADD #attempts :one',
      '#status = :pending',
      channel,
      {
        ':sending': { S: 'sending' },
        ':pending': { S: 'pending' },
        ':run': { S: runId },
        ':now': { N: String(nowMs) },
        ':one': { N: '1' },
      },
    );
  }

  /**
   * Records a confirmed delivery. With `runId`, only if that run still holds the claim; without, whatever
   * the state (an operator's manual mark).
   */
  async markDelivered(
    key: string,
    channel: ChannelName,
    options: { runId?: string; nowMs?: number } = {},
  ): Promise<boolean> {
    const values: Record<string, AttributeValue> = {
      ':sent': { S: 'sent' },
      ':now': { N: String(options.nowMs ?? this.#now()) },
    };
    if (options.runId) values[':run'] = { S: options.runId };
    return this.#update(
      key,
      'SET #status = :sent, #sentAt = :now REMOVE #claim, #claimedAt',
      options.runId ? '#claim = :run' : 'attribute_exists(#status)',
      channel,
      values,
    );
  }

  /** Gives a claimed entry back after a send that certainly failed: the next run tries again. */
  async release(key: string, channel: ChannelName, runId: string, error: string): Promise<boolean> {
    return this.#update(
      key,
      'SET #status = :pending, #lastError = :error REMOVE #claim, #claimedAt',
      '#claim = :run',
      channel,
      { ':pending': { S: 'pending' }, ':run': { S: runId }, ':error': { S: error.slice(0, 1000) } },
    );
  }

  /** A claim whose run died before confirming: taken as delivered (at most once), flagged unconfirmed. */
  async settleStaleClaim(key: string, channel: ChannelName, staleRunId: string, nowMs = this.#now()) {
    return this.#update(
      key,
      'SET #status = :sent, #sentAt = :now, #unconfirmed = :true REMOVE #claim, #claimedAt',
      '#status = :sending AND #claim = :run',
      channel,
      {
        ':sent': { S: 'sent' },
        ':sending': { S: 'sending' },
        ':run': { S: staleRunId },
        ':now': { N: String(nowMs) },
        ':true': { BOOL: true },
      },
    );
  }

  /** A pending entry too old to be worth sending (for example a channel configured weeks later). */
  async expire(key: string, channel: ChannelName): Promise<boolean> {
    return this.#update(key, 'SET #status = :expired', '#status = :pending', channel, {
      ':expired': { S: 'expired' },
      ':pending': { S: 'pending' },
    });
  }

  async #update(
    key: string,
    update: string,
    condition: string,
    channel: ChannelName,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    for (const [placeholder, suffix] of Object.entries(ATTRIBUTE_SUFFIX)) {
      // Whole placeholders only: "#claim" must not match inside "#claimedAt".
      const used = new RegExp(`${placeholder}\\b`);
      if (used.test(update) || used.test(condition)) names[placeholder] = `${channel}${suffix}`;
    }
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: itemKey(key),
          UpdateExpression: update,
          ConditionExpression: `attribute_exists(#pk) AND (${condition})`,
          ExpressionAttributeNames: { ...names, '#pk': PARTITION_KEY },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

const ATTRIBUTE_SUFFIX = {
  '#status': 'Status',
  '#claimedAt': 'ClaimedAt',
  '#claim': 'Claim',
  '#attempts': 'Attempts',
  '#sentAt': 'SentAt',
  '#lastError': 'LastError',
  '#unconfirmed': 'Unconfirmed',
} as const;

const itemKey = (key: string): Record<string, AttributeValue> => ({
  [PARTITION_KEY]: { S: OUTBOX_PARTITION },
  [SORT_KEY]: { S: key },
});

// The stored alert crosses a boundary (another version of the code may have written it): check its shape.
const alertSchema = z.looseObject({
  id: z.string(),
  type: z.enum(['spike', 'new_key', 'reminder', 'resolved']),
  projectId: z.string(),
  apiKeyId: z.string().nullable(),
  bucketStart: z.number(),
  incidentStart: z.number(),
  metric: z.literal('tokens'),
  observed: z.number(),
  expected: z.number(),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  usdObserved: z.number(),
  usdExpected: z.number(),
  requestsObserved: z.number(),
  requestsExpected: z.number(),
  excessTokensTotal: z.number(),
  excessUsdTotal: z.number(),
  topModel: z.string().nullable(),
  durationHours: z.number().optional(),
  newNormal: z.boolean().optional(),
  escalated: z.boolean().optional(),
  recentTokens: z.array(z.number()),
  names: z
    .object({
      project: z.string().optional(),
      apiKey: z.string().optional(),
      redactedKey: z.string().optional(),
    })
    .optional(),
  muted: z.boolean().optional(),
});

const STATUSES = new Set<string>(['pending', 'sending', 'sent', 'muted', 'skipped', 'expired']);

function toEntry(item: Record<string, AttributeValue>, channel: ChannelName): OutboxEntry {
  const key = item[SORT_KEY]?.S ?? '';
  const parsed = alertSchema.safeParse(JSON.parse(item.alert?.S ?? 'null'));
  if (!parsed.success) throw new Error(`Outbox item ${key} holds no valid alert: ${parsed.error.message}`);
  const status = item[`${channel}Status`]?.S ?? 'pending';
  const entry: OutboxEntry = {
    key,
    alert: parsed.data as Alert,
    status: STATUSES.has(status) ? (status as DeliveryStatus) : 'pending',
    attempts: Number(item[`${channel}Attempts`]?.N ?? 0),
    recordedAtMs: Number(item.recordedAt?.N ?? 0),
  };
  const runId = item[`${channel}Claim`]?.S;
  if (runId) entry.claim = { runId, atMs: Number(item[`${channel}ClaimedAt`]?.N ?? 0) };
  const lastError = item[`${channel}LastError`]?.S;
  if (lastError) entry.lastError = lastError;
  if (item[`${channel}Unconfirmed`]?.BOOL) entry.unconfirmed = true;
  return entry;
}
