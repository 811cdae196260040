// Lambda entry point: parse the scheduled event, read the secrets, run the core, emit metrics.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { assembleRun } from './assemble-run.ts';
import { parseConfig } from './config/parse-config.ts';
import { errorMessage } from './core/error-message.ts';
import { runScheduledEvaluation } from './core/run-scheduled-evaluation.ts';
import { FunctionEnv } from './deployment-contract.ts';
import { checkWebhookUrl } from './notify/slack-webhook-client.ts';
import { publishRunMetrics } from './run-metrics.ts';
import { SecretReader } from './secret-reader.ts';
import { DEFAULT_API_BASE } from './usage-api/admin-api-client.ts';

/** Time kept back from Lambda's limit to record, deliver and release the lease cleanly. */
const SAFETY_MARGIN_MS = 20_000;

// Created once per container and reused across invocations.
const logger = new Logger();
const runLogger = {
  debug: (message: string, attributes?: Record<string, unknown>) => logger.debug(message, attributes ?? {}),
  info: (message: string, attributes?: Record<string, unknown>) => logger.info(message, attributes ?? {}),
  warn: (message: string, attributes?: Record<string, unknown>) => logger.warn(message, attributes ?? {}),
  error: (message: string, attributes?: Record<string, unknown>) => logger.error(message, attributes ?? {}),
};
const metrics = new Metrics();
const dynamoDb = new DynamoDBClient({});
const sns = new SNSClient({});
const secrets = new SecretReader(new SecretsManagerClient({}));
// The stack compiles the validated configuration into the bundle (esbuild define).
const config = parseConfig(JSON.parse(process.env.USAGE_SENTINEL_CONFIG ?? '{}'));

/** EventBridge Scheduler's payload from the stack, or a classic EventBridge scheduled rule's event. */
const scheduledEvent = z.looseObject({
  source: z.string().optional(),
  scheduledTime: z.string().optional(),
  time: z.string().optional(),
});

export interface RunSummary {
  runId: string;
  outcome: string;
  hoursEvaluated: number;
  hoursLeftPending: number;
  seriesEvaluated: number;
  alerts: number;
}

export const handler = async (event: unknown, context: Context): Promise<RunSummary> => {
  const startedMs = Date.now();
  const parsedEvent = scheduledEvent.safeParse(event ?? {});
  const scheduledTime = parsedEvent.success
    ? (parsedEvent.data.scheduledTime ?? parsedEvent.data.time)
    : undefined;
  const runId = context.awsRequestId;
  logger.appendKeys({ runId });
  logger.info('Run started', { scheduledTime });

  const env = (name: string): string => {
    const value = process.env[name];
    if (!value)
      throw new Error(`environment variable ${name} is not set; deploy the function with the stack`);
    return value;
  };
  const adminKey = await secrets.read(env(FunctionEnv.openAiAdminKeySecretArn));
  if (!adminKey) {
    throw new Error(
      `the OpenAI admin key secret (${env(FunctionEnv.openAiAdminKeySecretArn)}) is not filled in: ` +
        'aws secretsmanager put-secret-value --secret-id <its ARN> --secret-string "$OPENAI_ADMIN_KEY"',
    );
  }
  const slackWebhookUrl = await readSlackWebhookUrl(env(FunctionEnv.slackWebhookSecretArn));
  const projectSlackWebhookUrls = new Map<string, string>();
  for (const [projectId, arn] of Object.entries(config.secrets.projectSlackWebhookArns)) {
    const url = await readSlackWebhookUrl(arn);
    if (url) projectSlackWebhookUrls.set(projectId, url);
  }

  let apiRetries = 0;
  const run = assembleRun({
    config,
    dynamoDb,
    tableName: env(FunctionEnv.stateTableName),
    apiBase: process.env.OPENAI_BASE_URL ?? DEFAULT_API_BASE,
    adminKey,
    slackWebhookUrl,
    projectSlackWebhookUrls,
    snsTopicArn: env(FunctionEnv.alertTopicArn),
    snsClient: sns,
    runId,
    logger: runLogger,
    onApiRetry: () => {
      apiRetries += 1;
    },
  });
  try {
    const report = await runScheduledEvaluation(run.deps, {
      runId,
      now: Math.floor(Date.now() / 1000),
      graceMinutes: config.schedule.graceMinutes,
      deadline: { atMs: startedMs + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS },
    });
    publishRunMetrics(metrics, {
      report,
      delivery: run.lastDelivery(),
      apiRetries,
      durationMs: Date.now() - startedMs,
    });
    const summary: RunSummary = {
      runId,
      outcome: report.outcome,
      hoursEvaluated: report.hoursEvaluated,
      hoursLeftPending: report.hoursLeftPending,
      seriesEvaluated: report.seriesEvaluated,
      alerts: report.alerts.length,
    };
    logger.info('Run finished', { ...summary });
    // A failed run errors, so the Errors alarm fires and Lambda retries it; its hours are still pending.
    if (report.outcome === 'failed') throw report.error ?? new Error('the run failed');
    return summary;
  } finally {
    await run.close();
  }
};

async function readSlackWebhookUrl(secretArn: string): Promise<string | undefined> {
  const url = await secrets.read(secretArn);
  if (!url) {
    logger.warn('A Slack webhook secret is not filled in; its alerts go to email only', { secretArn });
    return undefined;
  }
  // Only hooks.slack.com, so a configuration mistake cannot post usage data elsewhere; the local
  // override exists for the project's own integration tests and must be set explicitly.
  try {
    return checkWebhookUrl(url, { allowLocal: process.env.USAGE_SENTINEL_ALLOW_LOCAL_WEBHOOK === 'true' });
  } catch (error) {
    // A mistyped webhook must not silence email too: this channel is skipped, the run goes on.
    logger.error('A Slack webhook secret does not hold a Slack webhook URL; its alerts go to email only', {
      secretArn,
      error: errorMessage(error),
    });
    return undefined;
  }
}
