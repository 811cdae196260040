// Everything a scheduled run talks to, on 127.0.0.1: the usage API stand-in serving a simulated org on a
// clock the test moves, dynalite, a Slack receiver and the SNS stand-in. Runs go through assembleRun,
// the same wiring the Lambda handler and the command line use.
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { assembleRun } from '../../../functions/assemble-run.ts';
import type { SentinelConfig } from '../../../functions/config/config-schema.ts';
import { parseConfig } from '../../../functions/config/parse-config.ts';
import { type RunReport, runScheduledEvaluation } from '../../../functions/core/run-scheduled-evaluation.ts';
import type { UsageHour } from '../../../functions/core/usage.ts';
import {
  type EmbeddedDynamoDb,
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../../functions/local/embedded-dynamodb.ts';
import type { SimulatedOrg } from '../../../functions/local/simulated-org.ts';
import { type SlackReceiver, startSlackReceiver } from '../../../functions/local/slack-receiver.ts';
import {
  LOCAL_TOPIC_ARN,
  type SnsReceiver,
  startSnsReceiver,
} from '../../../functions/local/sns-stand-in.ts';
import {
  STAND_IN_ADMIN_KEY,
  startUsageApiStandIn,
  type UsageApiStandIn,
} from '../../../functions/local/usage-api-stand-in.ts';
import { PARTITION_KEY, SORT_KEY } from '../../../functions/state/table-schema.ts';

export interface LogLine {
  level: string;
  message: string;
  attributes?: Record<string, unknown> | undefined;
}

export interface RunOptions {
  table: string;
  /** The run's clock, unix seconds; the stand-in's clock is set to it too. */
  now: number;
  runId?: string;
  /** Milliseconds from the start of the run; default 60 s. */
  budgetMs?: number;
  /** Sees each hour the run evaluates, in order. */
  onEvaluate?: (hour: UsageHour) => void;
}

export interface LocalServices {
  api: UsageApiStandIn;
  dynamo: EmbeddedDynamoDb;
  client: DynamoDBClient;
  slack: SlackReceiver;
  sns: SnsReceiver;
  config: SentinelConfig;
  /** Every line every run logged. */
  logs: LogLine[];
  /** What the stand-in takes as "now". */
  setClock(unixSeconds: number): void;
  newTable(name: string): Promise<string>;
  run(options: RunOptions): Promise<RunReport>;
  watermark(table: string): Promise<number | undefined>;
  /** Sort keys of the outbox, i.e. the alerts recorded. */
  outboxKeys(table: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startLocalServices(org: SimulatedOrg, rawConfig: unknown = {}): Promise<LocalServices> {
  let clock = org.start;
  const api = await startUsageApiStandIn({ org, now: () => clock });
  const dynamo = await startEmbeddedDynamoDb();
  const client = localDynamoDbClient(dynamo.endpoint);
  const slack = await startSlackReceiver();
  const sns = await startSnsReceiver();
  const snsClient = new SNSClient({
    endpoint: sns.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const config = parseConfig(rawConfig);
  const logs: LogLine[] = [];
  const log =
    (level: string) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      logs.push({ level, message, attributes });
    };
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

  return {
    api,
    dynamo,
    client,
    slack,
    sns,
    config,
    logs,
    setClock: (unixSeconds) => {
      clock = unixSeconds;
    },
    newTable: async (name) => {
      await ensureStateTable(client, name);
      return name;
    },
    run: async (options) => {
      clock = options.now;
      const runId = options.runId ?? randomUUID();
      const run = assembleRun({
        config,
        dynamoDb: client,
        tableName: options.table,
        apiBase: api.baseUrl,
        adminKey: STAND_IN_ADMIN_KEY,
        slackWebhookUrl: slack.url,
        snsTopicArn: LOCAL_TOPIC_ARN,
        snsClient,
        runId,
        logger,
      });
      const onEvaluate = options.onEvaluate;
      if (onEvaluate) {
        const evaluator = run.deps.evaluator;
        run.deps.evaluator = {
          evaluate: (hour, evaluateOptions) => {
            onEvaluate(hour);
            return evaluator.evaluate(hour, evaluateOptions);
          },
        };
      }
      try {
        return await runScheduledEvaluation(run.deps, {
          runId,
          now: options.now,
          graceMinutes: config.schedule.graceMinutes,
          deadline: { atMs: Date.now() + (options.budgetMs ?? 60_000) },
        });
      } finally {
        await run.close();
      }
    },
    watermark: async (table) => {
      const res = await client.send(
        new GetItemCommand({
          TableName: table,
          Key: { [PARTITION_KEY]: { S: 'meta' }, [SORT_KEY]: { S: 'watermark' } },
          ConsistentRead: true,
        }),
      );
      const hour = res.Item?.hour?.N;
      return hour === undefined ? undefined : Number(hour);
    },
    outboxKeys: async (table) => {
      const res = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': { S: 'outbox' } },
          ConsistentRead: true,
        }),
      );
      return (res.Items ?? []).map((item) => item[SORT_KEY]?.S ?? '');
    },
    stop: async () => {
      snsClient.destroy();
      client.destroy();
      await Promise.all([api.stop(), dynamo.stop(), slack.close(), sns.close()]);
    },
  };
}

export interface SlackPayload {
  text?: string;
  blocks?: unknown[];
}

/** Slack payloads and SNS messages that name any of the given texts (a key's id, its name). */
export function messagesAbout(services: LocalServices, ...texts: string[]) {
  const names = (s: string) => texts.some((t) => s.includes(t));
  return {
    slack: services.slack.delivered().filter((json) => names(JSON.stringify(json))) as SlackPayload[],
    email: services.sns.published.filter((m) => names(`${m.subject ?? ''}\n${m.message ?? ''}`)),
  };
}
