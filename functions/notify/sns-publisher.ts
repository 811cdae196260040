// Publishes email messages to the alerts topic. The client has no endpoint of its own, so the SDK's
// normal resolution applies and AWS_ENDPOINT_URL_SNS reaches a local stand-in.
import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import type { Deadline } from '../core/usage.ts';
import { DeliveryError } from './delivery-error.ts';
import type { EmailMessage } from './email-message.ts';

/** What deliver-alerts needs from email. */
export interface EmailChannel {
  publish(message: EmailMessage, deadline: Deadline): Promise<void>;
}

// Created on first use and reused across invocations.
let sharedClient: SNSClient | undefined;
const defaultClient = (): SNSClient => {
  sharedClient ??= new SNSClient({});
  return sharedClient;
};

/** Errors no retry fixes: the topic or the permission to publish is missing, or SNS refused the message. */
const PERMANENT = new Set([
  'NotFoundException',
  'NotFound',
  'AuthorizationErrorException',
  'AuthorizationError',
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValueException',
  'InvalidParameterValue',
  'InvalidSecurityException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSAccessDeniedException',
]);

export class SnsPublisher implements EmailChannel {
  readonly topicArn: string;
  readonly #client: SNSClient;

  constructor(options: { topicArn: string; client?: SNSClient }) {
    this.topicArn = options.topicArn;
    this.#client = options.client ?? defaultClient();
  }

  /** Publishes or throws DeliveryError (the SDK has already retried throttling and 5xx by then). */
  async publish(message: EmailMessage, deadline: Deadline): Promise<void> {
    const remaining = deadline.atMs - Date.now();
    if (remaining <= 0) {
      throw new DeliveryError('SNS: no time left before the deadline', {
        channel: 'email',
        permanent: false,
        reason: 'deadline',
      });
    }
    try {
      await this.#client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: message.subject,
          Message: message.message,
          MessageAttributes: message.attributes,
        }),
        { abortSignal: AbortSignal.timeout(remaining) },
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const status = error instanceof SNSServiceException ? error.$metadata.httpStatusCode : undefined;
      const detail = error instanceof SNSServiceException ? `: ${error.message.slice(0, 300)}` : '';
      throw new DeliveryError(`SNS Publish failed (${name}${status ? `, HTTP ${status}` : ''})${detail}`, {
        channel: 'email',
        permanent: PERMANENT.has(name),
        reason: name,
        status,
      });
    }
  }
}
