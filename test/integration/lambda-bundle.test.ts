// The deployed code path: synthesize the real app, take the function's bundled index.mjs out of the
// cloud assembly, and run it in a child process the way Lambda would, with the environment the template
// gives it and every AWS endpoint pointed at a local stand-in (AWS_ENDPOINT_URL_<SERVICE>).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { pendingHours } from '../../functions/core/pending-hours.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import {
  FunctionEnv,
  METRICS_NAMESPACE,
  SECRET_PLACEHOLDER,
  SentinelMetric,
} from '../../functions/deployment-contract.ts';
import type { RunSummary } from '../../functions/handler.ts';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import {
  localSecretArn,
  startSecretsManagerStandIn,
} from '../../functions/local/secrets-manager-stand-in.ts';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import { startSlackReceiver, WEBHOOK_SECRET_PATH } from '../../functions/local/slack-receiver.ts';
import { LOCAL_TOPIC_ARN, startSnsReceiver } from '../../functions/local/sns-stand-in.ts';
import { STAND_IN_ADMIN_KEY, startUsageApiStandIn } from '../../functions/local/usage-api-stand-in.ts';
import { PARTITION_KEY, SORT_KEY } from '../../functions/state/table-schema.ts';
import { buildApp } from '../../lib/build-app.ts';
import { cdkJsonFeatureFlags, REPO_ROOT } from '../infra/synth-stack.ts';
import { type NodeOutput, runNode } from '../support/run-node.ts';
import { invocationResults } from './support/lambda-invocation.ts';
import {
  mondayBefore,
  PLANTED_KEY_ID,
  PLANTED_KEY_NAME,
  withPlantedSeries,
} from './support/planted-usage.ts';

const TABLE = 'UsageSentinel-StateTable-local';
const config = parseConfig(
  (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: { usageSentinel: unknown } })
    .context.usageSentinel,
);
const graceMinutes = config.schedule.graceMinutes;
/** The hour the function takes as the last closed one at a given moment (it runs on the real clock). */
const lastClosedHour = (nowMs: number): number =>
  pendingHours(Math.floor(nowMs / 1000), graceMinutes, undefined).end - HOUR_SECONDS;

interface FunctionResource {
  Type: string;
  Properties: {
    Handler: string;
    Code: { S3Key?: string };
    Environment?: { Variables?: Record<string, unknown> };
  };
}

interface Bundle {
  /** Absolute path of the bundled index.mjs. */
  entry: string;
  /** The function's environment as the template sets it: literal values, or a reference to fill in. */
  variables: Record<string, unknown>;
}

/** The sentinel function's bundle and environment, from the synthesized template and asset manifest. */
function findBundle(outdir: string, stackName: string): Bundle {
  const template = JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, FunctionResource>;
  };
  const fns = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Properties.Environment?.Variables?.[FunctionEnv.stateTableName] !== undefined,
  );
  expect(fns).toHaveLength(1);
  const fn = fns[0] as FunctionResource;
  expect(fn.Properties.Handler).toBe('index.handler');
  const hash = fn.Properties.Code.S3Key?.replace(/\.zip$/, '') ?? '';
  const assets = JSON.parse(readFileSync(join(outdir, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const asset = assets.files[hash];
  expect(asset, `asset ${hash} in the manifest`).toBeDefined();
  return {
    entry: join(outdir, asset?.source.path ?? '', 'index.mjs'),
    variables: fn.Properties.Environment?.Variables ?? {},
  };
}

type ChildOutput = NodeOutput;

describe('the synthesized Lambda bundle, run against local stand-ins of every service', () => {
  let outdir: string;
  let bundle: Bundle;
  const stops: Array<() => Promise<void>> = [];
  let adminKeyArn: string;
  let webhookArn: string;
  /** The first process: one cold invocation on a fresh table. */
  let first: ChildOutput;
  /** The second process: two invocations right after (a cold start, then a warm one). */
  let second: ChildOutput;
  /** The third process: the admin key secret still holds the stack's placeholder. */
  let unfilled: ChildOutput;
  let lastHourBefore: number;
  let lastHourAfter: number;
  let slackAfterFirst: unknown[];
  let emailAfterFirst: Array<{ subject: string | null; message: string | null; topicArn: string | null }>;
  let slackAfterSecond: number;
  let emailAfterSecond: number;
  let secretsAsked: Array<string | undefined>;
  let stateItems: Array<{ pk: string; sk: string; hour?: number }>;

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'usage-sentinel-bundle-'));
    const { app, stack } = buildApp(config, { context: cdkJsonFeatureFlags(), outdir });
    app.synth();
    bundle = findBundle(outdir, stack.artifactId);

    const nowSeconds = Math.floor(Date.now() / 1000);
    // A key nobody has seen, with a large first hour exactly in the last closed hour: a new_key alert.
    const org = withPlantedSeries(
      simulateOrganization({
        seed: 5,
        keys: 15,
        weeks: 3,
        start: mondayBefore(nowSeconds, 14),
        incidents: false,
      }),
      { isSpike: () => true, firstHour: () => lastClosedHour(Date.now()) },
    );
    const api = await startUsageApiStandIn({ org, now: () => Math.floor(Date.now() / 1000) });
    const dynamo = await startEmbeddedDynamoDb();
    const client = localDynamoDbClient(dynamo.endpoint);
    await ensureStateTable(client, TABLE);
    const slack = await startSlackReceiver();
    const sns = await startSnsReceiver();
    adminKeyArn = localSecretArn('usage-sentinel/openai-admin-key');
    webhookArn = localSecretArn('usage-sentinel/slack-webhook');
    const secrets = await startSecretsManagerStandIn({
      [adminKeyArn]: STAND_IN_ADMIN_KEY,
      [webhookArn]: slack.url,
    });
    stops.push(api.stop, dynamo.stop, slack.close, sns.close, secrets.close, async () => client.destroy());

    // What the stack's references resolve to once deployed, here the local stand-ins.
    const resolved: Record<string, string> = {
      [FunctionEnv.stateTableName]: TABLE,
      [FunctionEnv.alertTopicArn]: LOCAL_TOPIC_ARN,
      [FunctionEnv.openAiAdminKeySecretArn]: adminKeyArn,
      [FunctionEnv.slackWebhookSecretArn]: webhookArn,
    };
    const functionEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(bundle.variables)) {
      const local = typeof value === 'string' ? value : resolved[name];
      if (local === undefined)
        throw new Error(`the template sets ${name} to ${JSON.stringify(value)}; resolve it here`);
      functionEnv[name] = local;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      // What the Lambda runtime sets.
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'ASIALOCALSTANDIN0000',
      AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
      AWS_SESSION_TOKEN: 'local-stand-in-session',
      AWS_LAMBDA_FUNCTION_NAME: 'UsageSentinel-SentinelFunction',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      TZ: ':UTC',
      ...functionEnv,
      // The local endpoints.
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      OPENAI_BASE_URL: api.baseUrl,
      USAGE_SENTINEL_ALLOW_LOCAL_WEBHOOK: 'true',
    };
    const driver = join(REPO_ROOT, 'test/integration/support/lambda-driver.ts');
    const scheduledTime = new Date().toISOString();

    lastHourBefore = lastClosedHour(Date.now());
    first = await runNode([driver, bundle.entry, scheduledTime], { cwd: tmpdir(), env });
    slackAfterFirst = slack.delivered();
    emailAfterFirst = [...sns.published];
    second = await runNode([driver, bundle.entry, scheduledTime, scheduledTime], { cwd: tmpdir(), env });
    lastHourAfter = lastClosedHour(Date.now());
    slackAfterSecond = slack.requests.length;
    emailAfterSecond = sns.requests;
    secretsAsked = secrets.requests.map((r) => r.secretId);

    secrets.putSecret(adminKeyArn, SECRET_PLACEHOLDER);
    unfilled = await runNode([driver, bundle.entry, scheduledTime], { cwd: tmpdir(), env });

    const scan = await client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
    stateItems = (scan.Items ?? []).map((item) => ({
      pk: item[PARTITION_KEY]?.S ?? '',
      sk: item[SORT_KEY]?.S ?? '',
      ...(item.hour?.N === undefined ? {} : { hour: Number(item.hour.N) }),
    }));
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  /** The clock crossed into a new hour while the function ran: hour-exact checks do not apply. */
  const hourTurned = () => lastHourBefore !== lastHourAfter;
  const summaries = (output: ChildOutput) =>
    invocationResults(output.stdout).map((r) => (r.ok ? (r.result as RunSummary) : r));

  it('loads and runs all three invocations without an error', () => {
    for (const output of [first, second]) {
      expect(output.stderr).toBe('');
      expect(output.code).toBe(0);
    }
    expect(invocationResults(first.stdout)).toMatchObject([{ ok: true }]);
    expect(invocationResults(second.stdout)).toMatchObject([{ ok: true }, { ok: true }]);
  });

  it('primes a fresh table with a week of hours on the first invocation', () => {
    const [summary] = summaries(first);
    expect(summary).toMatchObject({ outcome: 'completed', hoursEvaluated: 168, hoursLeftPending: 0 });
    expect((summary as RunSummary).seriesEvaluated).toBeGreaterThan(168);
  });

  it('keeps its state in DynamoDB: the watermark at the last closed hour, and the series', () => {
    const watermark = stateItems.find((item) => item.pk === 'meta' && item.sk === 'watermark');
    expect([lastHourBefore, lastHourAfter]).toContain(watermark?.hour);
    expect(stateItems.filter((item) => item.pk.startsWith('series#')).length).toBeGreaterThan(15);
    // The lease was given back.
    expect(stateItems.find((item) => item.pk === 'meta' && item.sk === 'lease')).toBeUndefined();
  });

  it('reads both secrets from Secrets Manager by the ARNs in its environment, cached in a warm container', () => {
    // One read of each per container: the first process and the cold start of the second.
    expect([...secretsAsked].sort()).toEqual([adminKeyArn, adminKeyArn, webhookArn, webhookArn].sort());
  });

  it('alerts Slack and email once about the key that appeared in the last closed hour', (ctx) => {
    if (hourTurned()) ctx.skip('the clock entered a new hour during the run');
    const slackAbout = slackAfterFirst.filter((json) => JSON.stringify(json).includes(PLANTED_KEY_NAME));
    const emailAbout = emailAfterFirst.filter((m) => (m.message ?? '').includes(PLANTED_KEY_NAME));
    expect(slackAbout).toHaveLength(1);
    expect(emailAbout).toHaveLength(1);
    expect(emailAbout[0]?.topicArn).toBe(LOCAL_TOPIC_ARN);
    expect(JSON.stringify(slackAbout[0])).toContain(PLANTED_KEY_ID);
  });

  it('evaluates nothing and sends nothing new on the invocations right after', (ctx) => {
    if (hourTurned()) ctx.skip('the clock entered a new hour during the run');
    for (const summary of summaries(second)) {
      expect(summary).toMatchObject({
        outcome: 'completed',
        hoursEvaluated: 0,
        hoursLeftPending: 0,
        alerts: 0,
      });
    }
    expect(slackAfterSecond).toBe(slackAfterFirst.length);
    expect(emailAfterSecond).toBe(emailAfterFirst.length);
  });

  it('prints an EMF metrics line with RunSucceeded = 1 for each invocation', () => {
    const emf = [first, second]
      .flatMap((output) => output.stdout.split('\n'))
      .filter((line) => line.startsWith('{"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } })
      .filter((doc) => SentinelMetric.runSucceeded in doc);
    expect(emf).toHaveLength(3);
    for (const doc of emf) {
      expect(doc[SentinelMetric.runSucceeded]).toBe(1);
      expect(JSON.stringify(doc._aws.CloudWatchMetrics)).toContain(`"Namespace":"${METRICS_NAMESPACE}"`);
    }
    expect(emf[0]?.[SentinelMetric.hoursEvaluated]).toBe(168);
  });

  it('fails clearly, and evaluates nothing, while the admin key secret holds the placeholder', () => {
    const [result] = invocationResults(unfilled.stdout);
    expect(result).toMatchObject({ ok: false });
    const message = (result as { message: string }).message;
    expect(message).toContain(adminKeyArn);
    expect(message).toContain('put-secret-value');
    expect(unfilled.stdout).not.toMatch(/"HoursEvaluated":[1-9]/);
  });

  it('prints neither the admin key nor the webhook URL', () => {
    const printed = [first, second, unfilled].map((o) => o.stdout + o.stderr).join('\n');
    expect(printed).not.toContain(STAND_IN_ADMIN_KEY);
    expect(printed).not.toContain(WEBHOOK_SECRET_PATH.split('/').at(-1));
  });
});
