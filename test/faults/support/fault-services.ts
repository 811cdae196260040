// The integration services (test/integration/support/local-services.ts) with DynamoDB behind the fault
// proxy: the usage API stand-in serving a simulated org with a planted runaway key, dynalite (reached
// through the proxy), a Slack receiver and the SNS stand-in, all on 127.0.0.1. Runs go through assembleRun
// as the Lambda's do; a test may swap in a usage source with short timeouts (the assembled run has the
// production defaults), and each run's metrics are the EMF that publishRunMetrics prints, captured.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RunReport } from '../../../functions/core/run-scheduled-evaluation.ts';
import { type Deadline, HOUR_SECONDS, type UsageHour } from '../../../functions/core/usage.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/deployment-contract.ts';
import { HourEvaluator } from '../../../functions/detection/hour-evaluator.ts';
import {
  type DynamoDbFaultProxy,
  startDynamoDbFaultProxy,
} from '../../../functions/local/dynamodb-fault-proxy.ts';
import { localDynamoDbClient } from '../../../functions/local/embedded-dynamodb.ts';
import type { SimulatedOrg } from '../../../functions/local/simulated-org.ts';
import { STAND_IN_ADMIN_KEY } from '../../../functions/local/usage-api-stand-in.ts';
import type { DeliveryResult } from '../../../functions/notify/deliver-alerts.ts';
import { publishRunMetrics } from '../../../functions/run-metrics.ts';
import { type BatchOptions, batchPutItems } from '../../../functions/state/batch-io.ts';
import { SORT_KEY } from '../../../functions/state/table-schema.ts';
import type { AdminApiClientOptions, RetryInfo } from '../../../functions/usage-api/admin-api-client.ts';
import { OpenAiUsageSource } from '../../../functions/usage-api/openai-usage-source.ts';
import {
  type LocalServices,
  type LogLine,
  startLocalServices,
} from '../../integration/support/local-services.ts';

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

/**
 * The local services (their setClock also serves child processes; runs set the clock themselves), with
 * tables created and read straight through dynalite, never faulted.
 */
export interface FaultServices
  extends Pick<
    LocalServices,
    'api' | 'dynamo' | 'slack' | 'sns' | 'config' | 'logs' | 'setClock' | 'newTable' | 'watermark' | 'stop'
  > {
  proxy: DynamoDbFaultProxy;
  /** Through the proxy: what runs use. */
  client: DynamoDBClient;
  /** Straight to dynalite: for the test's own reads, never faulted. */
  directClient: DynamoDBClient;
  /** A new table holding a copy of another's items (a primed state, reused instead of priming again). */
  cloneTable(from: string, to: string): Promise<string>;
  run(options: FaultRunOptions): Promise<FaultRun>;
  /** The outbox entries: alert JSON and each channel's status. */
  outbox(table: string): Promise<OutboxRow[]>;
}

export interface OutboxRow {
  key: string;
  alert: { id: string; type: string; apiKeyId: string | null; bucketStart: number };
  slackStatus: string | undefined;
  emailStatus: string | undefined;
}

export async function startFaultServices(org: SimulatedOrg, rawConfig: unknown = {}): Promise<FaultServices> {
  const local = await startLocalServices(org, rawConfig);
  const { api, config } = local;
  const proxy = await startDynamoDbFaultProxy({ target: local.dynamo.endpoint });
  const client = localDynamoDbClient(proxy.endpoint);
  const directClient = local.client;

  const run = async (options: FaultRunOptions): Promise<FaultRun> => {
    const runLogs: LogLine[] = [];
    const retries: RetryInfo[] = [];
    const onRetry = (info: RetryInfo) => retries.push(info);
    const evaluated: number[] = [];
    let quick: OpenAiUsageSource | undefined;
    const startedMs = Date.now();
    try {
      const { report, delivery } = await local.runWith(
        {
          ...options,
          onEvaluate: async (hour) => {
            evaluated.push(hour.start);
            await options.onEvaluate?.(hour);
          },
        },
        {
          dynamoDb: client,
          onLog: (line) => runLogs.push(line),
          onApiRetry: onRetry,
          prepare: (assembled, logger) => {
            if (options.quickApi) {
              quick = new OpenAiUsageSource({
                apiBase: api.baseUrl,
                adminKey: STAND_IN_ADMIN_KEY,
                watch: config.watch,
                logger,
                onRetry,
                ...options.quickApi,
              });
              assembled.deps.usageSource = quick;
            }
            if (options.quickBatch) {
              const batch = options.quickBatch;
              assembled.deps.evaluator = new HourEvaluator({
                client,
                tableName: options.table,
                config,
                batch,
              });
            }
          },
        },
      );
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
      await quick?.close();
    }
  };

  return {
    api,
    dynamo: local.dynamo,
    proxy,
    client,
    directClient,
    slack: local.slack,
    sns: local.sns,
    config,
    logs: local.logs,
    setClock: local.setClock,
    newTable: local.newTable,
    cloneTable: async (from, to) => {
      await local.newTable(to);
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
    watermark: local.watermark,
    outbox: async (table) =>
      (await local.outboxItems(table)).map((item) => ({
        key: item[SORT_KEY]?.S ?? '',
        alert: JSON.parse(item.alert?.S ?? '{}') as OutboxRow['alert'],
        slackStatus: item.slackStatus?.S,
        emailStatus: item.emailStatus?.S,
      })),
    stop: async () => {
      // The proxy first: dynalite stops once nothing is connected to it.
      client.destroy();
      await proxy.stop();
      await local.stop();
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
