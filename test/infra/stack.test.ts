// The stack as a new user deploys it (`usageSentinel: {}`), asserted on the synthesized template.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE_TABLE_LOGICAL_ID } from '../../lib/constructs/state-table.ts';
import { allowedActions, type PolicyResource, type SynthesizedStack, synthStack } from './synth-stack.ts';

let synth: SynthesizedStack;
beforeAll(() => {
  synth = synthStack({});
});

function only(type: string): { id: string; resource: Record<string, unknown> } {
  const found = Object.entries(synth.template.findResources(type));
  expect(found, type).toHaveLength(1);
  const [id, resource] = found[0] as [string, Record<string, unknown>];
  return { id, resource };
}

const functionId = () => only('AWS::Lambda::Function').id;
const queueId = () => only('AWS::SQS::Queue').id;
const topicId = () => only('AWS::SNS::Topic').id;

describe('schedule', () => {
  it('invokes the function at minute 10 of every hour, UTC, with retries and the dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(10 * * * ? *)',
      ScheduleExpressionTimezone: Match.anyValue(),
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [functionId(), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId(), 'Arn'] } },
      }),
    });
    const schedule = only('AWS::Scheduler::Schedule').resource as {
      Properties: { ScheduleExpressionTimezone: string; Target: { Input: string } };
    };
    expect(['UTC', 'Etc/UTC']).toContain(schedule.Properties.ScheduleExpressionTimezone);
    expect(JSON.parse(schedule.Properties.Target.Input)).toMatchObject({ source: 'usage-sentinel.schedule' });
  });

  it("lets the scheduler's role invoke only the function and write only to the dead-letter queue", () => {
    const roleRef = new Capture();
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RoleArn: { 'Fn::GetAtt': [roleRef, 'Arn'] } }),
    });
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy')) as PolicyResource[];
    const schedulerPolicy = policies.find((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${roleRef.asString()}"`),
    );
    const actions = schedulerPolicy?.Properties.PolicyDocument.Statement.flatMap((s) => [s.Action].flat());
    expect(actions?.sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
  });
});

describe('function', () => {
  it('runs Node.js 24 on arm64 with 1024 MB and five minutes', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 300,
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: only('AWS::Logs::LogGroup').id } },
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queueId(), 'Arn'] } },
    });
    synth.template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  it('retries a failed asynchronous run twice within an hour', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId() },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  it('has no reserved concurrency (it fails to deploy on accounts with a low quota)', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('writes to its own log group, kept three months and removed with the stack', () => {
    synth.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Delete',
    });
  });

  it('gets table, topic and secret ARNs in its environment, never secret values', () => {
    const secretIds = Object.keys(synth.template.findResources('AWS::SecretsManager::Secret')).sort();
    expect(secretIds).toHaveLength(2);
    const variables = new Capture();
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: variables },
    });
    const env = variables.asObject();
    expect(env).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      STATE_TABLE_NAME: { Ref: STATE_TABLE_LOGICAL_ID },
      ALERT_TOPIC_ARN: { Ref: topicId() },
      POWERTOOLS_SERVICE_NAME: 'usage-sentinel',
      POWERTOOLS_METRICS_NAMESPACE: 'UsageSentinel',
    });
    // `Ref` of a Secrets Manager secret is its ARN.
    const secretRefs = [env.OPENAI_ADMIN_KEY_SECRET_ARN, env.SLACK_WEBHOOK_SECRET_ARN].map(
      (value) => (value as { Ref: string }).Ref,
    );
    expect(secretRefs.sort()).toEqual(secretIds);
    expect(JSON.stringify(env)).not.toContain('REPLACE_ME');
    expect(Object.keys(env)).not.toContain('USAGE_SENTINEL_CONFIG');
  });

  it('logs only through a grant on its log group, not an AWS-managed policy', () => {
    const role = new Capture();
    synth.template.hasResourceProperties('AWS::Lambda::Function', { Role: { 'Fn::GetAtt': [role, 'Arn'] } });
    synth.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
    const roles = synth.template.findResources('AWS::IAM::Role');
    expect(roles[role.asString()]).toBeDefined();
  });
});

describe("function's permissions", () => {
  const functionPolicy = (): PolicyResource => {
    const role = new Capture();
    synth.template.hasResourceProperties('AWS::Lambda::Function', { Role: { 'Fn::GetAtt': [role, 'Arn'] } });
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy')) as PolicyResource[];
    const policy = policies.find(
      (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role.asString() }]),
    );
    if (!policy) throw new Error("no policy on the function's role");
    return policy;
  };
  const statementsWith = (action: string) =>
    functionPolicy().Properties.PolicyDocument.Statement.filter((s) => [s.Action].flat().includes(action));

  it('reads and writes items of the state table only', () => {
    const [statement, ...more] = statementsWith('dynamodb:PutItem');
    expect(more).toHaveLength(0);
    expect([statement?.Action].flat()).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
      ]),
    );
    expect(statement?.Resource).toEqual({ 'Fn::GetAtt': [STATE_TABLE_LOGICAL_ID, 'Arn'] });
  });

  it('publishes to the alert topic only, with use of its key', () => {
    expect(statementsWith('sns:Publish').map((s) => s.Resource)).toEqual([{ Ref: topicId() }]);
    expect(statementsWith('kms:GenerateDataKey*').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [only('AWS::KMS::Key').id, 'Arn'] },
    ]);
  });

  it('reads the two secrets only', () => {
    const resources = statementsWith('secretsmanager:GetSecretValue').flatMap((s) => [s.Resource].flat());
    const secretIds = Object.keys(synth.template.findResources('AWS::SecretsManager::Secret'));
    expect(resources).toHaveLength(2);
    expect(resources).toEqual(expect.arrayContaining(secretIds.map((id) => ({ Ref: id }))));
  });

  it('writes logs to its own log group only', () => {
    expect(statementsWith('logs:PutLogEvents').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [only('AWS::Logs::LogGroup').id, 'Arn'] },
    ]);
  });

  it('holds no wildcard actions anywhere in the stack', () => {
    const actions = allowedActions(synth.template).map((a) => a.action);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).not.toBe('*');
      expect(action).not.toMatch(/:\*$/);
    }
  });
});

describe('state table', () => {
  it(`keeps the logical id ${STATE_TABLE_LOGICAL_ID}, since a new id would replace the table and its state`, () => {
    expect(only('AWS::DynamoDB::Table').id).toBe(STATE_TABLE_LOGICAL_ID);
  });

  it('is retained on delete and replace', () => {
    synth.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has pk/sk string keys, TTL on expiresAt, on-demand billing and point-in-time recovery', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('alert topic', () => {
  it('is encrypted with a rotating customer-managed key that CloudWatch alarms may use', () => {
    const keyId = only('AWS::KMS::Key').id;
    synth.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    synth.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
          }),
        ]),
      }),
    });
  });

  it('denies publishing without TLS and lets only this account’s alarms publish as CloudWatch', () => {
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId() }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      }),
    });
  });

  it('has no email subscription when none is configured', () => {
    synth.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('secrets', () => {
  it('are created with a placeholder the user replaces, and their ARNs are outputs', () => {
    const secrets = synth.template.findResources('AWS::SecretsManager::Secret', {
      Properties: { SecretString: 'REPLACE_ME', GenerateSecretString: Match.absent() },
    });
    expect(Object.keys(secrets)).toHaveLength(2);
    const outputs = synth.template.findOutputs('*');
    const outputRefs = [outputs.OpenAiAdminKeySecretArn?.Value, outputs.SlackWebhookSecretArn?.Value];
    expect(outputRefs).toEqual(expect.arrayContaining(Object.keys(secrets).map((id) => ({ Ref: id }))));
  });
});

describe('dead-letter queue', () => {
  it('is encrypted, refuses plain HTTP and keeps messages 14 days', () => {
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });
});

describe('alarms', () => {
  const toTopic = () => ({ AlarmActions: [{ Ref: topicId() }], OKActions: [{ Ref: topicId() }] });

  it('are four, each notifying the topic on alarm and on recovery', () => {
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    expect(
      Object.keys(synth.template.findResources('AWS::CloudWatch::Alarm', { Properties: toTopic() })),
    ).toHaveLength(4);
  });

  it('fire when deliveries failed three hours in a row', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...toTopic(),
      Namespace: 'UsageSentinel',
      MetricName: 'DeliveryFailures',
      Dimensions: [{ Name: 'service', Value: 'usage-sentinel' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire on any function error within an hour', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...toTopic(),
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId() } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire when an invocation lands in the dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...toTopic(),
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire when no run succeeded for two hours, missing data counting as failure', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...toTopic(),
      Namespace: 'UsageSentinel',
      MetricName: 'RunSucceeded',
      Dimensions: [{ Name: 'service', Value: 'usage-sentinel' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

describe('dashboard', () => {
  /** The metrics of every graph, with CloudFormation references in the body replaced by "<ref>". */
  const graphedMetrics = () => {
    const dashboard = only('AWS::CloudWatch::Dashboard').resource as {
      Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } };
    };
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join('')) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    return body.widgets.flatMap((widget) =>
      (widget.properties.metrics ?? []).map((row) => {
        const [namespace, name, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i] as string] = rest[i + 1] as string;
        return { namespace, name, dimensions };
      }),
    );
  };

  it("graphs the sentinel's own metrics by service, alerts by channel", () => {
    const metrics = graphedMetrics();
    for (const name of [
      'RunSucceeded',
      'HoursEvaluated',
      'SeriesEvaluated',
      'DeliveryFailures',
      'ApiRetries',
      'RunDurationMs',
    ]) {
      expect(metrics).toContainEqual({
        namespace: 'UsageSentinel',
        name,
        dimensions: { service: 'usage-sentinel' },
      });
    }
    for (const channel of ['slack', 'email']) {
      expect(metrics).toContainEqual({
        namespace: 'UsageSentinel',
        name: 'AlertsSent',
        dimensions: { service: 'usage-sentinel', channel },
      });
    }
  });

  it("graphs the function's errors and duration and the dead-letter queue's depth", () => {
    const metrics = graphedMetrics();
    for (const name of ['Errors', 'Duration']) {
      expect(metrics).toContainEqual({
        namespace: 'AWS/Lambda',
        name,
        dimensions: { FunctionName: '<ref>' },
      });
    }
    expect(metrics).toContainEqual({
      namespace: 'AWS/SQS',
      name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: '<ref>' },
    });
  });
});

describe('cdk-nag AWS Solutions checks', () => {
  it('find nothing unacknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it('leave an empty validation report in the cloud assembly', () => {
    const report = JSON.parse(readFileSync(join(synth.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
