// `usage-sentinel run`: one scheduled evaluation through the same code path as the Lambda handler.
import { randomUUID } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { assembleRun } from '../../functions/assemble-run.ts';
import { runScheduledEvaluation } from '../../functions/core/run-scheduled-evaluation.ts';
import { loadConfig, parseTime, requireAdminKey, resolveApiBase } from './cli-options.ts';
import { type Command, str } from './command.ts';
import { consoleLogger } from './console-logger.ts';
import { openState } from './local-state.ts';
import { printRunSummary, writeAlertsOut } from './run-output.ts';

/** A local run has no Lambda limit; this bounds a catch-up after a long pause. */
const RUN_BUDGET_MS = 30 * 60 * 1000;

export const runCommand: Command = {
  name: 'run',
  summary: 'one scheduled evaluation, as the Lambda does it',
  usage:
    'usage-sentinel run [--now T] [--api-base URL] [--config FILE] [--dynamodb-endpoint URL --table NAME [--create-table]] [--slack-webhook URL] [--sns-topic-arn ARN] [--alerts-out FILE] [--dry-run]',
  optionHelp: [
    '--now T                    the clock: unix seconds or ISO 8601 (default: now)',
    '--api-base URL             usage API base (default $OPENAI_BASE_URL or https://api.openai.com/v1)',
    '--config FILE              cdk.json or a JSON file of the usageSentinel object (default ./cdk.json)',
    '--dynamodb-endpoint URL    keep state in this DynamoDB (with --table)',
    '--table NAME               the state table at that endpoint',
    '--create-table             create the table when missing (local use)',
    '--state-dir DIR            folder of the embedded store (default ./.usage-sentinel)',
    '--slack-webhook URL        post alerts to this Slack incoming webhook',
    '--sns-topic-arn ARN        publish alerts to this SNS topic ($AWS_ENDPOINT_URL_SNS is honoured)',
    "--alerts-out FILE          write this run's alerts as JSON Lines",
    '--dry-run                  evaluate and keep state, deliver nothing',
    '--verbose                  more log lines',
  ],
  options: {
    now: { type: 'string' },
    'api-base': { type: 'string' },
    config: { type: 'string' },
    'dynamodb-endpoint': { type: 'string' },
    table: { type: 'string' },
    'create-table': { type: 'boolean' },
    'state-dir': { type: 'string' },
    'slack-webhook': { type: 'string' },
    'sns-topic-arn': { type: 'string' },
    'alerts-out': { type: 'string' },
    'dry-run': { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  async run(values) {
    const config = loadConfig(str(values, 'config'));
    const nowFlag = str(values, 'now');
    const now = nowFlag === undefined ? Math.floor(Date.now() / 1000) : parseTime(nowFlag, '--now');
    const apiBase = resolveApiBase(str(values, 'api-base'));
    const adminKey = requireAdminKey();
    const logger = consoleLogger({ verbose: values.verbose === true });
    const state = await openState({
      endpoint: str(values, 'dynamodb-endpoint'),
      table: str(values, 'table'),
      createTable: values['create-table'] === true,
      stateDir: str(values, 'state-dir'),
    });
    const runId = randomUUID();
    const run = assembleRun({
      config,
      dynamoDb: state.client,
      tableName: state.tableName,
      apiBase,
      adminKey,
      slackWebhookUrl: str(values, 'slack-webhook'),
      snsTopicArn: str(values, 'sns-topic-arn'),
      snsClient: new SNSClient({ region: process.env.AWS_REGION ?? 'us-east-1' }),
      dryRun: values['dry-run'] === true,
      runId,
      logger,
    });
    try {
      logger.info(`State: ${state.describe}`);
      const report = await runScheduledEvaluation(run.deps, {
        runId,
        now,
        graceMinutes: config.schedule.graceMinutes,
        deadline: { atMs: Date.now() + RUN_BUDGET_MS },
      });
      const alertsOut = str(values, 'alerts-out');
      if (alertsOut) writeAlertsOut(alertsOut, report.alerts);
      printRunSummary(report, run.lastDelivery());
      return report.outcome === 'completed' || report.outcome === 'skipped' ? 0 : 1;
    } finally {
      await run.close();
      await state.close();
    }
  },
};
