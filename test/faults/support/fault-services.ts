// The integration services with DynamoDB behind the fault proxy: the usage API stand-in serving a
// simulated org with a planted runaway key, dynalite (reached through the proxy), a Slack receiver and the
// SNS stand-in, all on 127.0.0.1. Runs go through assembleRun as the Lambda's do; a test may swap in a
// usage source with short timeouts (the assembled run has the production defaults), and each run's
// metrics are the EMF that publishRunMetrics prints, captured.
import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { assembleRun } from '../../../functions/assemble-run.ts';
import type { SentinelConfig } from '../../../functions/config/config-schema.ts';
import { parseConfig } from '../../../functions/config/parse-config.ts';
import { type RunReport, runScheduledEvaluation } from '../../../functions/core/run-scheduled-evaluation.ts';
import { type Deadline, HOUR_SECONDS, type UsageHour } from '../../../functions/core/usage.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/deployment-contract.ts';
import { HourEvaluator } from '../../../functions/detection/hour-evaluator.ts';
import {
  type DynamoDbFaultProxy,
  startDynamoDbFaultProxy,
} from '../../../functions/local/dynamodb-fault-proxy.ts';
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
import { publishRunMetrics } from '../../../functions/run-metrics.ts';
import { type BatchOptions, batchPutItems } from '../../../functions/state/batch-io.ts';
import { PARTITION_KEY, SORT_KEY } from '../../../functions/state/table-schema.ts';
import type { AdminApiClientOptions, RetryInfo } from '../../../functions/usage-api/admin-api-client.ts';
import { OpenAiUsageSource } from '../../../functions/usage-api/openai-usage-source.ts';
import type { LogLine } from '../../integration/support/local-services.ts';

export type { LogLine } from '../../integration/support/local-services.ts';

/** Client options for a usage source swapped in for one run: short timeouts and backoffs. */
export type QuickApiOptions = Pick<
  AdminApiClientOptions,
  'requestTimeoutMs' | 'maxAttempts' | 'backoff' | 'minAttemptMs'
>;

export interface FaultRunOptions {
  table: string;
  /** The run's clock, unix seconds; the stand-in's clock is set to it too. */
  now: number;
  runId?: string;
  /** Milliseconds from the start of the run; default 60 s. Ignored when `deadline` is given. */
  budgetMs?: number;
  deadline?: Deadline;
  /** Replaces the assembled usage source by one with these client options. */
  quickApi?: QuickApiOptions;
  /** Replaces the assembled evaluator by one whose batch I/O uses these options (short backoffs). */
  quickBatch?: BatchOptions;
  /** Sees each hour before the run evaluates it, in order; the run waits for what it returns. */
  onEvaluate?: (hour: UsageHour) => void | Promise<void>;
}

/** The EMF figures of one run: metric name -> value (AlertsSent per channel as AlertsSent.<channel>). */
export type RunMetrics = Record<string, number>;

export interface FaultRun {
  report: RunReport;
  delivery: DeliveryResult | undefined;
  metrics: RunMetrics;
  /** The EMF lines publishRunMetrics printed. */
  metricsPrinted: string;
  /** What the Lambda handler does with this report: throw (the Errors alarm) when the run failed. */
  handlerThrows: boolean;
  /** Hours the run began to evaluate, in order (an hour that failed included). */
  evaluated: number[];
  /** Hours the run committed (evaluated and moved the watermark past), in order. */
  committed: number[];
  /** API retries the run made. */
  retries: RetryInfo[];
  /** The lines this run logged. */
  logs: LogLine[];
}

export interface FaultServices {
  api: UsageApiStandIn;
  dynamo: EmbeddedDynamoDb;
  proxy: DynamoDbFaultProxy;
  /** Through the proxy: what runs use. */
  client: DynamoDBClient;
  /** Straight to dynalite: for the test's own reads, never faulted. */
  directClient: DynamoDBClient;
  slack: SlackReceiver;
  sns: SnsReceiver;
  config: SentinelConfig;
  /** Every line every run logged. */
  logs: LogLine[];
  /** What the stand-in takes as "now" (runs set it themselves; for child processes). */
  setClock(unixSeconds: number): void;
  newTable(name: string): Promise<string>;
  /** A new table holding a copy of another's items (a primed state, reused instead of priming again). */
  cloneTable(from: string, to: string): Promise<string>;
  run(options: FaultRunOptions): Promise<FaultRun>;
  watermark(table: string): Promise<number | undefined>;
  /** The outbox entries: alert JSON and each channel's status. */
  outbox(table: string): Promise<OutboxRow[]>;
  stop(): Promise<void>;
}

export interface OutboxRow {
  key: string;
  alert: { id: string; type: string; apiKeyId: string | null; bucketStart: number };
  slackStatus: string | undefined;
  emailStatus: string | undefined;
}

export async function startFaultServices(org: SimulatedOrg, rawConfig: unknown = {}): Promise<FaultServices> {
  let clock = org.start;
  const api = await startUsageApiStandIn({ org, now: () => clock });
  const dynamo = await startEmbeddedDynamoDb();
  const proxy = await startDynamoDbFaultProxy({ target: dynamo.endpoint });
  const client = localDynamoDbClient(proxy.endpoint);
  const directClient = localDynamoDbClient(dynamo.endpoint);
  const slack = await startSlackReceiver();
  const sns = await startSnsReceiver();
  const snsClient = new SNSClient({
    endpoint: sns.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const config = parseConfig(rawConfig);
  const logs: LogLine[] = [];

  const run = async (options: FaultRunOptions): Promise<FaultRun> => {
    clock = options.now;
    const runId = options.runId ?? randomUUID();
    const runLogs: LogLine[] = [];
    const log =
      (level: string) =>
      (message: string, attributes?: Record<string, unknown>): void => {
        const line = { level, message, attributes };
        logs.push(line);
        runLogs.push(line);
      };
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const retries: RetryInfo[] = [];
    const onRetry = (info: RetryInfo) => retries.push(info);
    const assembled = assembleRun({
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
      onApiRetry: onRetry,
    });
    const quick = options.quickApi
      ? new OpenAiUsageSource({
          apiBase: api.baseUrl,
          adminKey: STAND_IN_ADMIN_KEY,
          watch: config.watch,
          logger,
          onRetry,
          ...options.quickApi,
        })
      : undefined;
    if (quick) assembled.deps.usageSource = quick;
    const evaluated: number[] = [];
    const evaluator = options.quickBatch
      ? new HourEvaluator({ client, tableName: options.table, config, batch: options.quickBatch })
      : assembled.deps.evaluator;
    assembled.deps.evaluator = {
      evaluate: async (hour, evaluateOptions) => {
        evaluated.push(hour.start);
        await options.onEvaluate?.(hour);
        return evaluator.evaluate(hour, evaluateOptions);
      },
    };
    const startedMs = Date.now();
    try {
      const report = await runScheduledEvaluation(assembled.deps, {
        runId,
        now: options.now,
        graceMinutes: config.schedule.graceMinutes,
        deadline: options.deadline ?? { atMs: Date.now() + (options.budgetMs ?? 60_000) },
      });
      const delivery = assembled.lastDelivery();
      const printed = printMetrics(report, delivery, retries.length, Date.now() - startedMs);
      return {
        report,
        delivery,
        metrics: readMetrics(printed),
        metricsPrinted: printed,
        handlerThrows: report.outcome === 'failed',
        evaluated,
        committed:
          report.firstHour === undefined || report.lastHour === undefined
            ? []
            : hoursFrom(report.firstHour, report.lastHour),
        retries,
        logs: runLogs,
      };
    } finally {
      await Promise.all([assembled.close(), quick?.close()]);
    }
  };

  return {
    api,
    dynamo,
    proxy,
    client,
    directClient,
    slack,
    sns,
    config,
    logs,
    setClock: (unixSeconds) => {
      clock = unixSeconds;
    },
    newTable: async (name) => {
      await ensureStateTable(directClient, name);
      return name;
    },
    cloneTable: async (from, to) => {
      await ensureStateTable(directClient, to);
      const items: Array<Record<string, AttributeValue>> = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await directClient.send(
          new ScanCommand({ TableName: from, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      await batchPutItems(directClient, to, items);
      return to;
    },
    run,
    watermark: async (table) => {
      const res = await directClient.send(
        new GetItemCommand({
          TableName: table,
          Key: { [PARTITION_KEY]: { S: 'meta' }, [SORT_KEY]: { S: 'watermark' } },
          ConsistentRead: true,
        }),
      );
      const hour = res.Item?.hour?.N;
      return hour === undefined ? undefined : Number(hour);
    },
    outbox: async (table) => {
      const res = await directClient.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': { S: 'outbox' } },
          ConsistentRead: true,
        }),
      );
      return (res.Items ?? []).map((item) => ({
        key: item[SORT_KEY]?.S ?? '',
        alert: JSON.parse(item.alert?.S ?? '{}') as OutboxRow['alert'],
        slackStatus: item.slackStatus?.S,
        emailStatus: item.emailStatus?.S,
      }));
    },
    stop: async () => {
      snsClient.destroy();
      client.destroy();
      directClient.destroy();
      await Promise.all([api.stop(), proxy.stop(), slack.close(), sns.close()]);
      await dynamo.stop();
    },
  };
}

/** Runs publishRunMetrics as the handler does; returns the EMF it printed to stdout. */
function printMetrics(
  report: RunReport,
  delivery: DeliveryResult | undefined,
  apiRetries: number,
  durationMs: number,
): string {
  const printed: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    publishRunMetrics(metrics, { report, delivery, apiRetries, durationMs });
  } finally {
    process.stdout.write = write;
  }
  return printed.join('');
}

/** Metric name -> value from EMF lines. */
function readMetrics(printed: string): RunMetrics {
  const figures: RunMetrics = {};
  for (const line of printed.split('\n')) {
    if (!line.startsWith('{"_aws"')) continue;
    const doc = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> };
    };
    const channel = typeof doc.channel === 'string' ? `.${doc.channel}` : '';
    for (const { Metrics: defs } of doc._aws.CloudWatchMetrics) {
      for (const { Name } of defs) {
        const value = doc[Name];
        if (typeof value === 'number') figures[`${Name}${channel}`] = value;
      }
    }
  }
  return figures;
}

/** The hours [from, to] (unix s, inclusive), one an hour: what "each hour exactly once" compares with. */
export function hoursFrom(from: number, to: number): number[] {
  const out: number[] = [];
  for (let h = from; h <= to; h += HOUR_SECONDS) out.push(h);
  return out;
}

/** The log lines of a level whose text (message and attributes) matches. */
export function logLinesMatching(lines: readonly LogLine[], level: string, pattern: RegExp): LogLine[] {
  return lines.filter(
    (l) => l.level === level && pattern.test(`${l.message} ${JSON.stringify(l.attributes)}`),
  );
}
