import { SecretValue, Validations } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_PLACEHOLDER } from '../../functions/deployment-contract.ts';

export { SECRET_PLACEHOLDER };

export interface SentinelSecretsProps {
  /** Existing secret holding the OpenAI admin key; when absent the stack creates one. */
  readonly openAiAdminKeyArn?: string | undefined;
  /** Existing secret holding the Slack incoming-webhook URL; when absent the stack creates one. */
  readonly slackWebhookArn?: string | undefined;
  /** Existing secrets holding per-project Slack webhook URLs, by project id. */
  readonly projectSlackWebhookArns?: Readonly<Record<string, string>>;
}

/** The OpenAI admin key and the Slack webhook URL, referenced by ARN or created empty. */
export class SentinelSecrets extends Construct {
  readonly openAiAdminKey: ISecret;
  readonly slackWebhook: ISecret;
  readonly projectSlackWebhooks: ISecret[];

  constructor(scope: Construct, id: string, props: SentinelSecretsProps) {
    super(scope, id);
    this.openAiAdminKey = this.secret(
      'OpenAiAdminKey',
      props.openAiAdminKeyArn,
      'OpenAI admin key (sk-admin-...) that reads the organization usage API',
    );
    this.slackWebhook = this.secret(
      'SlackWebhook',
      props.slackWebhookArn,
      'Slack incoming-webhook URL for usage-sentinel alerts (leave REPLACE_ME to send none)',
    );
    this.projectSlackWebhooks = Object.values(props.projectSlackWebhookArns ?? {}).map((arn, index) =>
      Secret.fromSecretCompleteArn(this, `ProjectSlackWebhook${index}`, arn),
    );
  }

  private secret(id: string, arn: string | undefined, description: string): ISecret {
    if (arn !== undefined) return Secret.fromSecretCompleteArn(this, id, arn);
    const secret = new Secret(this, id, {
      description,
      secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is issued by OpenAI or Slack, not by AWS; no rotation Lambda can mint a new one. ' +
        'Users rotate it at the source and store it with put-secret-value.',
    });
    return secret;
  }
}
