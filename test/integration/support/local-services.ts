// Everything a scheduled run talks to, on 127.0.0.1: the usage API stand-in serving a simulated org on a
// clock the test moves, dynalite, a Slack receiver and the SNS stand-in. Runs go through assembleRun,
// the same wiring the Lambda handler and the command line use. The fault harness builds on these services
// (runWith), with DynamoDB behind a fault proxy.
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { type AssembledRun, assembleRun, type RunSettings } from '../../../functions/assemble-run.ts';
import type { SentinelConfig } from '../../../functions/config/config-schema.ts';
import { parseConfig } from '../../../functions/config/parse-config.ts';
import { type RunReport, runScheduledEvaluation } from '../../../functions/core/run-scheduled-evaluation.ts';
import type { Deadline, UsageHour } from '../../../functions/core/usage.ts';
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
import type { DeliveryResult } from '../../../functions/notify/deliver-alerts.ts';
import { PARTITION_KEY, SORT_KEY } from '../../../functions/state/table-schema.ts';
import type { RetryInfo } from '../../../functions/usage-api/admin-api-client.ts';

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
  /** Milliseconds from the start of the run; default 60 s. Ignored when `deadline` is given. */
  budgetMs?: number;
  deadline?: Deadline;
  /** Sees each hour before the run evaluates it, in order; the run waits for a promise it returns. */
  onEvaluate?: (hour: UsageHour) => unknown;
}

/** What a harness built on these services changes in a run. */
export interface RunChanges {
  /** The client the run reaches DynamoDB through; default straight to dynalite. */
  dynamoDb?: DynamoDBClient;
  /** Sees each line the run logs (also kept in `logs`). */
  onLog?: (line: LogLine) => void;
  onApiRetry?: (info: RetryInfo) => void;
  /** Swaps parts of the assembled run (its usage source, its evaluator) before it starts. */
  prepare?: (run: AssembledRun, logger: RunSettings['logger']) => void;
}

export interface FinishedRun {
  report: RunReport;
  /** What the run's delivery pass did, as the metrics see it. */
  delivery: DeliveryResult | undefined;
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
  runWith(options: RunOptions, changes: RunChanges): Promise<FinishedRun>;
  watermark(table: string): Promise<number | undefined>;
  /** The outbox entries as stored: the alerts recorded and each channel's status. */
  outboxItems(table: string): Promise<Array<Record<string, AttributeValue>>>;
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

  const runWith = async (options: RunOptions, changes: RunChanges): Promise<FinishedRun> => {
    clock = options.now;
    const runId = options.runId ?? randomUUID();
    const log =
      (level: string) =>
      (message: string, attributes?: Record<string, unknown>): void => {
        const line = { level, message, attributes };
        logs.push(line);
        changes.onLog?.(line);
      };
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const run = assembleRun({
      config,
      dynamoDb: changes.dynamoDb ?? client,
      tableName: options.table,
      apiBase: api.baseUrl,
      adminKey: STAND_IN_ADMIN_KEY,
      slackWebhookUrl: slack.url,
      snsTopicArn: LOCAL_TOPIC_ARN,
      snsClient,
      runId,
      logger,
      onApiRetry: changes.onApiRetry,
    });
    changes.prepare?.(run, logger);
    const onEvaluate = options.onEvaluate;
    if (onEvaluate) {
      const evaluator = run.deps.evaluator;
      run.deps.evaluator = {
        evaluate: async (hour, evaluateOptions) => {
          await onEvaluate(hour);
          return evaluator.evaluate(hour, evaluateOptions);
        },
      };
    }
    try {
      const report = await runScheduledEvaluation(run.deps, {
        runId,
        now: options.now,
        graceMinutes: config.schedule.graceMinutes,
        deadline: options.deadline ?? { atMs: Date.now() + (options.budgetMs ?? 60_000) },
      });
      return { report, delivery: run.lastDelivery() };
    } finally {
      await run.close();
    }
  };

  const outboxItems = async (table: string) => {
    const res = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: 'outbox' } },
        ConsistentRead: true,
      }),
    );
    return res.Items ?? [];
  };

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
    run: async (options) => (await runWith(options, {})).report,
    runWith,
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
    outboxItems,
    outboxKeys: async (table) => (await outboxItems(table)).map((item) => item[SORT_KEY]?.S ?? ''),
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
