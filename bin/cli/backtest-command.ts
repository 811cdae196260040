// `usage-sentinel backtest`: what would have fired, replayed from an empty state through the same
// detection and state logic as `run`.
import type { SentinelConfig } from '../../functions/config/config-schema.ts';
import { PRIMING_HOURS } from '../../functions/core/pending-hours.ts';
import { replayHistory } from '../../functions/core/replay-history.ts';
import { HOUR_SECONDS, type UsageSource } from '../../functions/core/usage.ts';
import { HourEvaluator } from '../../functions/detection/hour-evaluator.ts';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { OpenAiUsageSource } from '../../functions/usage-api/openai-usage-source.ts';
import { UsagePagesFile, UsagePagesFileError } from '../../functions/usage-api/usage-pages-file.ts';
import { writeBacktestReport } from './backtest-report.ts';
import { CachingUsageSource } from './backtest-report-replays.ts';
import { summarizeBacktest } from './backtest-summary.ts';
import { loadConfig, parseTime, requireAdminKey, resolveApiBase, UsageError } from './cli-options.ts';
import { type Command, str } from './command.ts';
import { progressLine } from './progress-line.ts';
import { writeAlertsOut } from './run-output.ts';

/** A backtest reads at most this much history; longer ones are better split. */
const MAX_DAYS = 92;

export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'replay history and report what would have fired',
  usage:
    'usage-sentinel backtest (--input FILE | --start T --end T [--api-base URL]) [--config FILE] [--alerts-out FILE]\n' +
    '                               [--report FILE.html]',
  optionHelp: [
    '--input FILE               usage API pages, one JSON page a line (bucket_width=1h)',
    '--start T --end T          read [start, end) from the API (unix seconds or ISO 8601); the week',
    '                           before start is read too, to prime the baselines',
    '--api-base URL             usage API base (default $OPENAI_BASE_URL or https://api.openai.com/v1)',
    '--config FILE              cdk.json or a JSON file of the usageSentinel object (default ./cdk.json)',
    '--alerts-out FILE          write the alerts as JSON Lines',
    '--report FILE.html         write a self-contained HTML report: charts of the series that alerted,',
    '                           their baseline and alerts, and a sensitivity sweep (replays 5 more times)',
  ],
  options: {
    input: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    'api-base': { type: 'string' },
    config: { type: 'string' },
    'alerts-out': { type: 'string' },
    report: { type: 'string' },
  },
  async run(values) {
    const config = loadConfig(str(values, 'config'));
    const history = openHistory(values, config);
    const { start, end, close } = history;
    const reportPath = str(values, 'report');
    // The report replays the history again: keep the hours read, so the API is read once.
    const caching = reportPath === undefined ? undefined : new CachingUsageSource(history.source);
    const source = caching ?? history.source;
    const db = await startEmbeddedDynamoDb();
    const client = localDynamoDbClient(db.endpoint);
    try {
      await ensureStateTable(client, 'backtest');
      const progress = progressLine('Replaying', (end - start) / HOUR_SECONDS);
      const result = await replayHistory({
        source,
        evaluator: new HourEvaluator({ client, tableName: 'backtest', config }),
        start,
        end,
        deadline: { atMs: Number.POSITIVE_INFINITY },
        onProgress: progress.update,
      });
      progress.done();
      const alertsOut = str(values, 'alerts-out');
      if (alertsOut) writeAlertsOut(alertsOut, result.alerts);
      const summary = summarizeBacktest(result, { start, end });
      console.log(summary);
      if (reportPath !== undefined && caching) {
        await writeBacktestReport({
          path: reportPath,
          client,
          config,
          source: caching,
          result,
          range: { start, end },
          summaryText: summary,
          sourceLabel:
            str(values, 'input') ?? `usage API at ${new URL(resolveApiBase(str(values, 'api-base'))).host}`,
        });
        console.log(`Report written to ${reportPath}`);
      }
      return 0;
    } finally {
      client.destroy();
      await db.stop();
      await close();
    }
  },
};

function openHistory(
  values: Record<string, string | boolean | undefined>,
  config: SentinelConfig,
): {
  source: UsageSource;
  start: number;
  end: number;
  close(): Promise<void>;
} {
  const input = str(values, 'input');
  const startFlag = str(values, 'start');
  const endFlag = str(values, 'end');
  if (input !== undefined) {
    if (startFlag !== undefined || endFlag !== undefined)
      throw new UsageError('give --input or --start/--end, not both');
    try {
      const file = new UsagePagesFile(input);
      return { source: file, start: file.start, end: file.end, close: async () => {} };
    } catch (error) {
      if (error instanceof UsagePagesFileError) throw new UsageError(error.message);
      throw error;
    }
  }
  if (startFlag === undefined || endFlag === undefined) {
    throw new UsageError('backtest needs --input FILE, or --start and --end');
  }
  const start = Math.floor(parseTime(startFlag, '--start') / HOUR_SECONDS) * HOUR_SECONDS;
  const end = Math.floor(parseTime(endFlag, '--end') / HOUR_SECONDS) * HOUR_SECONDS;
  if (end <= start) throw new UsageError('--end must be at least an hour after --start');
  if (end - start > MAX_DAYS * 86_400)
    throw new UsageError(`--start to --end spans more than ${MAX_DAYS} days; split it`);
  if (end > Date.now() / 1000) throw new UsageError('--end is in the future; the API has only closed hours');
  const source = new OpenAiUsageSource({
    apiBase: resolveApiBase(str(values, 'api-base')),
    adminKey: requireAdminKey(),
    watch: config.watch,
  });
  // The week before --start primes the baselines, so alerts cover the whole [start, end).
  return { source, start: start - (PRIMING_HOURS - 1) * HOUR_SECONDS, end, close: () => source.close() };
}
