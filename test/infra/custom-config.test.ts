// The stack under a non-default configuration: another minute, email subscribers, existing secrets,
// and the configuration compiled into the bundle that really runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { allowedActions, REPO_ROOT, type SynthesizedStack, synthStack } from './synth-stack.ts';

const OPENAI_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:usage-sentinel/openai-AbCdEf';
const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:usage-sentinel/slack-GhIjKl';
const TEAM_SLACK_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:usage-sentinel/team-MnOpQr';

const rawConfig = {
  schedule: { minute: 25 },
  notifications: { emails: ['finops@example.com', 'platform@example.com'] },
  secrets: {
    openAiAdminKeyArn: OPENAI_SECRET_ARN,
    slackWebhookArn: SLACK_SECRET_ARN,
    projectSlackWebhookArns: { proj_support: TEAM_SLACK_SECRET_ARN },
  },
  // A `$`, a backtick and quotes must survive esbuild's `define` unchanged.
  mutes: [{ apiKeyId: 'key_batch', until: '2030-01-01', reason: 'nightly "batch" `eval` costs $$$' }],
};

let synth: SynthesizedStack;
beforeAll(() => {
  synth = synthStack(rawConfig, {
    functionEntry: join(REPO_ROOT, 'test/infra/fixtures/config-echo-handler.ts'),
  });
});

describe('custom configuration', () => {
  it('schedules the run at the configured minute', () => {
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(25 * * * ? *)',
    });
  });

  it('subscribes each configured email address to the alert topic', () => {
    const topicId = Object.keys(synth.template.findResources('AWS::SNS::Topic'))[0];
    synth.template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of rawConfig.notifications.emails) {
      synth.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: { Ref: topicId },
      });
    }
  });

  it('references existing secrets by ARN and creates none', () => {
    synth.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OPENAI_ADMIN_KEY_SECRET_ARN: OPENAI_SECRET_ARN,
          SLACK_WEBHOOK_SECRET_ARN: SLACK_SECRET_ARN,
        }),
      },
    });
    expect(synth.template.findOutputs('OpenAiAdminKeySecretArn').OpenAiAdminKeySecretArn?.Value).toBe(
      OPENAI_SECRET_ARN,
    );
    expect(synth.template.findOutputs('SlackWebhookSecretArn').SlackWebhookSecretArn?.Value).toBe(
      SLACK_SECRET_ARN,
    );
  });

  it('lets the function read exactly those secrets: admin key, default and per-project webhooks', () => {
    const resources = new Capture();
    synth.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: resources,
          }),
        ]),
      }),
    });
    expect([resources.asArray()].flat().sort()).toEqual([
      OPENAI_SECRET_ARN,
      SLACK_SECRET_ARN,
      TEAM_SLACK_SECRET_ARN,
    ]);
    expect(allowedActions(synth.template).map((a) => a.action)).not.toContain('secretsmanager:*');
  });

  it('compiles the validated configuration into the bundle, where the handler reads it', async () => {
    const code = new Capture();
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Code: { S3Key: code, S3Bucket: Match.anyValue() },
    });
    // The asset's S3 key is its hash; the cloud assembly keeps the bundle in asset.<hash>.
    const bundle = join(synth.outdir, `asset.${code.asString().replace(/\.zip$/, '')}`, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    // Importing runs the ESM bundle as Lambda would, banner included.
    const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: () => Promise<unknown> };
    expect(await handler()).toEqual(parseConfig(rawConfig));
  });

  it('passes the cdk-nag checks with existing secrets too', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('cdk-nag checker', () => {
  it('is live: it reports a topic that accepts plain HTTP until the finding is acknowledged', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    const topic = new Topic(stack, 'Plain');
    const before = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(before).toContain('AwsSolutions-SNS3');
    Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS3', reason: 'probe' });
    const after = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(after).not.toContain('AwsSolutions-SNS3');
  });
});
