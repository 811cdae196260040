import { CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SCHEDULE_EVENT_SOURCE } from '../../functions/deployment-contract.ts';

export { SCHEDULE_EVENT_SOURCE };

export interface HourlyScheduleProps {
  /** Minute past each hour (UTC) the function is invoked. */
  readonly minute: number;
  readonly target: IFunction;
  /** Receives invocations Scheduler could not deliver after its retries. */
  readonly deadLetterQueue: IQueue;
}

/** Invokes the function once an hour, a few minutes after the hour closes. */
export class HourlySchedule extends Construct {
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: HourlyScheduleProps) {
    super(scope, id);
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Hourly usage-sentinel evaluation',
      schedule: ScheduleExpression.cron({ minute: String(props.minute), hour: '*' }),
      target: new LambdaInvoke(props.target, {
        input: ScheduleTargetInput.fromObject({
          source: SCHEDULE_EVENT_SOURCE,
          // The time the run was due, so a delayed delivery still knows which hours it stands for.
          scheduledTime: ContextAttribute.scheduledTime,
        }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: props.deadLetterQueue,
      }),
    });
    // LambdaInvoke puts its execution role at stack level and grants invoke on the function and its
    // versions (`<arn>:*`); the finding names this one function, so the acknowledgement covers no other.
    const target = props.target.node.defaultChild;
    if (target instanceof CfnResource) {
      const stack = Stack.of(this);
      Validations.of(stack).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(target)}.Arn>:*]`,
        reason:
          'Scheduler may invoke only the sentinel function; the :* suffix covers its versions and aliases, ' +
          'as grantInvoke writes it.',
      });
    }
  }
}
