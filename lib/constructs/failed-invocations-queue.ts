import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Dead-letter queue shared by the schedule (invocations Scheduler could not deliver) and the function's
 * asynchronous invocations (runs that failed after their retries). An alarm watches its depth.
 */
export class FailedInvocationsQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      // SQS-managed keys: Scheduler and Lambda can send without extra KMS grants.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedule and the function.',
    });
  }
}
