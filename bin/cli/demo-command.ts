// `usage-sentinel demo`: the whole product on an embedded default. A simulated organization is served
// by the project's stand-in of the usage API, state lives in an embedded DynamoDB, and every hour is
// one scheduled run through the Lambda's code path; what would be sent is printed.
import { assembleRun } from '../../functions/assemble-run.ts';
import { runScheduledEvaluation } from '../../functions/core/run-scheduled-evaluation.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { DEMO_START, demoOrganization } from '../../functions/local/demo-organization.ts';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { STAND_IN_ADMIN_KEY, startUsageApiStandIn } from '../../functions/local/usage-api-stand-in.ts';
import { checkBlockKitLimits } from '../../functions/notify/slack-message.ts';
import { SlackWebhookClient } from '../../functions/notify/slack-webhook-client.ts';
import { loadConfig } from './cli-options.ts';
import { type Command, str } from './command.ts';
import { consoleLogger } from './console-logger.ts';
import { TerminalEmailChannel, TerminalSlackChannel } from './terminal-channels.ts';

const WEEK_SECONDS = 7 * 24 * HOUR_SECONDS;
const TABLE = 'usage-sentinel-demo';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole product on a simulated organization, no account or network needed',
  usage: 'usage-sentinel demo [--hours N] [--config FILE] [--slack-webhook URL]',
  optionHelp: [
    '--hours N                  hourly runs to replay after the priming week (default 36)',
    '--config FILE              cdk.json or a JSON file of the usageSentinel object (default ./cdk.json)',
    '--slack-webhook URL        also post the alerts to this Slack incoming webhook',
  ],
  options: {
    hours: { type: 'string' },
    config: { type: 'string' },
    'slack-webhook': { type: 'string' },
  },
  async run(values) {
    const config = loadConfig(str(values, 'config'));
    const hours = Number(str(values, 'hours') ?? 36);
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) {
      console.error('usage-sentinel demo: --hours takes a whole number from 1 to 168');
      return 2;
    }
    const print = (text: string) => process.stdout.write(`${text}\n`);
    const { org, planted } = demoOrganization();
    print(
      `A simulated organization: ${org.projects.length} projects, ${org.keys.length} API keys, a week of history from ${day(DEMO_START)}.`,
    );
    print('Planted incidents:');
    for (const incident of planted) print(`  - ${keyName(org, incident.apiKeyId)}: ${incident.description}`);

    let clock = DEMO_START;
    const standIn = await startUsageApiStandIn({ org, now: () => clock });
    const db = await startEmbeddedDynamoDb();
    const client = localDynamoDbClient(db.endpoint);
    const webhook = str(values, 'slack-webhook');
    const slack = new TerminalSlackChannel(
      print,
      webhook ? new SlackWebhookClient({ url: webhook }) : undefined,
    );
    const email = new TerminalEmailChannel(print);
    const logger = consoleLogger({ quiet: true });
    const firstAlert = new Map<string, number>();
    let alerts = 0;
    let failedRuns = 0;
    const firstRunHour = DEMO_START + WEEK_SECONDS;
    try {
      await ensureStateTable(client, TABLE);
      // Each run starts when the schedule would fire: the closed hour plus its grace.
      const delay = Math.max(config.schedule.minute, config.schedule.graceMinutes) * 60;
      print(
        `\nFirst run at ${time(firstRunHour + delay)}: a new deployment reads the past week to prime its baselines.`,
      );
      for (let run = 0; run <= hours; run++) {
        clock = firstRunHour + run * HOUR_SECONDS + delay;
        const runId = `demo-${run}`;
        const assembled = assembleRun({
          config,
          dynamoDb: client,
          tableName: TABLE,
          apiBase: standIn.baseUrl,
          adminKey: STAND_IN_ADMIN_KEY,
          slackChannel: slack,
          emailChannel: email,
          runId,
          logger,
        });
        try {
          const report = await runScheduledEvaluation(assembled.deps, {
            runId,
            now: clock,
            graceMinutes: config.schedule.graceMinutes,
            deadline: { atMs: Date.now() + 60_000 },
          });
          if (report.outcome === 'failed') failedRuns += 1;
          alerts += report.alerts.length;
          for (const alert of report.alerts) {
            if (alert.type === 'spike' || alert.type === 'new_key') {
              const key = alert.apiKeyId ?? '';
              if (!firstAlert.has(key)) firstAlert.set(key, alert.bucketStart);
            }
          }
          process.stderr.write(
            `run at ${time(clock)}: ${report.hoursEvaluated} hour(s), ${report.seriesEvaluated} series-hours, ${report.alerts.length} alert(s)\n`,
          );
        } finally {
          await assembled.close();
        }
      }
    } finally {
      client.destroy();
      await db.stop();
      await standIn.stop();
    }

    print('\nSummary');
    // The last run evaluates the hour that closed just before it.
    const lastHourEvaluated = firstRunHour + (hours - 1) * HOUR_SECONDS;
    for (const incident of planted) {
      const caught = firstAlert.get(incident.apiKeyId);
      const hoursNeeded = (incident.start - firstRunHour) / HOUR_SECONDS + 1;
      const verdict =
        caught !== undefined
          ? `caught in hour ${(caught - incident.start) / HOUR_SECONDS + 1} of the incident (${time(caught)})`
          : incident.start > lastHourEvaluated
            ? `not reached: it starts at ${time(incident.start)}, after the last hour replayed (--hours ${hoursNeeded} or more reaches it)`
            : 'missed';
      print(`  - ${incident.kind.replace('_', ' ')} on ${keyName(org, incident.apiKeyId)}: ${verdict}`);
    }
    const plantedKeys = new Set(planted.map((i) => i.apiKeyId));
    const others = [...firstAlert.keys()].filter((key) => !plantedKeys.has(key));
    print(
      `  - other series that alerted: ${others.length ? others.map((k) => keyName(org, k)).join(', ') : 'none'}`,
    );
    print(
      `  - ${alerts} alert(s) recorded; ${slack.posted.length} Slack message(s) and ${email.published.length} email(s) sent`,
    );
    const violations = slack.posted.flatMap((payload) => checkBlockKitLimits(payload));
    if (violations.length) print(`  - Block Kit limit violations: ${violations.join('; ')}`);
    if (failedRuns) print(`  - ${failedRuns} run(s) failed`);
    return failedRuns || violations.length ? 1 : 0;
  },
};

const time = (unixSeconds: number) =>
  `${new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const day = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

function keyName(org: ReturnType<typeof demoOrganization>['org'], apiKeyId: string): string {
  const key = org.keys.find((k) => k.id === apiKeyId);
  const project = org.projects.find((p) => p.id === key?.projectId);
  return key ? `${project?.name ?? key.projectId} / ${key.name}` : apiKeyId;
}
