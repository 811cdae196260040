// Builds a scheduled run's dependencies from concrete services: the Lambda handler and the command
// line both come through here, so they run the same code path over different endpoints.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SentinelConfig } from './config/config-schema.ts';
import { DailyCostCheck } from './core/daily-cost-check.ts';
import type { RunDependencies, RunLogger } from './core/run-scheduled-evaluation.ts';
import { HourEvaluator } from './detection/hour-evaluator.ts';
import { priceLookup } from './detection/model-price.ts';
import { AlertOutbox } from './notify/alert-outbox.ts';
import { type DeliveryResult, deliverPendingAlerts } from './notify/deliver-alerts.ts';
import { ProjectSlackRoutes } from './notify/project-slack-routes.ts';
import { type SlackChannel, SlackWebhookClient } from './notify/slack-webhook-client.ts';
import { type EmailChannel, SnsPublisher } from './notify/sns-publisher.ts';
import { DailyEstimateStore } from './state/daily-estimate-store.ts';
import { RunStateStore } from './state/run-state-store.ts';
import type { RetryInfo } from './usage-api/admin-api-client.ts';
import { DynamoDbNameCache } from './usage-api/dynamodb-name-cache.ts';
import { OpenAiNameDirectory } from './usage-api/name-directory.ts';
import { OpenAiDailyCosts } from './usage-api/openai-daily-costs.ts';
import { OpenAiUsageSource } from './usage-api/openai-usage-source.ts';

export interface RunSettings {
  config: SentinelConfig;
  dynamoDb: DynamoDBClient;
  tableName: string;
  apiBase: string;
  adminKey: string;
  /** Already checked by the caller: configuration URLs against hooks.slack.com, CLI URLs as typed. */
  slackWebhookUrl?: string | undefined;
  /** Per project id, its team's own webhook URL (checked likewise). */
  projectSlackWebhookUrls?: ReadonlyMap<string, string>;
  snsTopicArn?: string | undefined;
  snsClient?: SNSClient;
  /** Channels given as they are (the demo's terminal), in place of the webhook URL and topic ARN. */
  slackChannel?: SlackChannel;
  emailChannel?: EmailChannel;
  /** Evaluate and record, deliver nothing. */
  dryRun?: boolean;
  runId: string;
  logger: RunLogger & { debug(message: string, attributes?: Record<string, unknown>): void };
  onApiRetry?: (info: RetryInfo) => void;
}

export interface AssembledRun {
  deps: RunDependencies;
  /** Delivery figures of the last deliverPending call, for metrics. */
  lastDelivery(): DeliveryResult | undefined;
  close(): Promise<void>;
}

export function assembleRun(settings: RunSettings): AssembledRun {
  const { config, dynamoDb: client, tableName, logger } = settings;
  const api = {
    apiBase: settings.apiBase,
    adminKey: settings.adminKey,
    logger,
    ...(settings.onApiRetry ? { onRetry: settings.onApiRetry } : {}),
  };
  const usageSource = new OpenAiUsageSource({ ...api, watch: config.watch });
  const names = new OpenAiNameDirectory({ ...api, cache: new DynamoDbNameCache({ client, tableName }) });
  const costs = new OpenAiDailyCosts(api);
  const outbox = new AlertOutbox({ client, tableName, config });
  const webhook = (url: string) => new SlackWebhookClient({ url, logger });
  const defaultSlack = settings.slackWebhookUrl ? webhook(settings.slackWebhookUrl) : undefined;
  const projectSlack = new Map(
    [...(settings.projectSlackWebhookUrls ?? [])].map(([id, url]) => [id, webhook(url)]),
  );
  const slack =
    settings.slackChannel ??
    (projectSlack.size ? new ProjectSlackRoutes(defaultSlack, projectSlack, logger) : defaultSlack);
  const email =
    settings.emailChannel ??
    (settings.snsTopicArn
      ? new SnsPublisher({
          topicArn: settings.snsTopicArn,
          ...(settings.snsClient ? { client: settings.snsClient } : {}),
        })
      : undefined);
  let lastDelivery: DeliveryResult | undefined;

  const deps: RunDependencies = {
    usageSource,
    runState: new RunStateStore(client, tableName),
    evaluator: new HourEvaluator({ client, tableName, config }),
    outbox,
    loadNames: () => names.lookup(),
    costCheck: new DailyCostCheck({
      estimates: new DailyEstimateStore(client, tableName),
      billed: costs,
      price: priceLookup(config.prices),
      logger,
    }),
    logger,
  };
  if (!settings.dryRun) {
    deps.delivery = {
      async deliverPending(deadline) {
        lastDelivery = await deliverPendingAlerts({
          outbox,
          channels: { slack, email },
          config,
          deadline,
          logger,
          runId: settings.runId,
        });
        if (lastDelivery.errors.length) {
          throw new Error(`the outbox could not be read or updated: ${lastDelivery.errors.join('; ')}`);
        }
        return lastDelivery;
      },
    };
  }
  return {
    deps,
    lastDelivery: () => lastDelivery,
    close: async () => {
      await Promise.all([usageSource.close(), names.close(), costs.close()]);
    },
  };
}
