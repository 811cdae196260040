import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type SnsReceiver,
  startSnsReceiver,
  LOCAL_TOPIC_ARN as TEST_TOPIC_ARN,
} from '../../functions/local/sns-stand-in.ts';
import { DeliveryError } from '../../functions/notify/delivery-error.ts';
import { renderEmailAlert } from '../../functions/notify/email-message.ts';
import { SnsPublisher } from '../../functions/notify/sns-publisher.ts';
import { spikeAlert } from './support/alert-fixtures.ts';

let sns: SnsReceiver;
const saved = { ...process.env };
beforeAll(async () => {
  sns = await startSnsReceiver();
  // The SDK's own endpoint resolution, as in production: nothing in the code names an endpoint.
  process.env.AWS_ENDPOINT_URL_SNS = sns.url;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  process.env = saved;
  await sns.close();
});
beforeEach(() => {
  sns.published.length = 0;
  sns.script.length = 0;
});

const soon = () => ({ atMs: Date.now() + 30_000 });

describe('SnsPublisher', () => {
  it('publishes subject, message and filterable attributes through AWS_ENDPOINT_URL_SNS', async () => {
    const email = renderEmailAlert(spikeAlert({ apiKeyId: null }), { timeZone: 'UTC' });
    await new SnsPublisher({ topicArn: TEST_TOPIC_ARN }).publish(email, soon());
    expect(sns.published).toHaveLength(1);
    const [published] = sns.published;
    expect(published?.topicArn).toBe(TEST_TOPIC_ARN);
    expect(published?.subject).toBe(email.subject);
    expect(published?.message).toBe(email.message);
    expect(published?.attributes).toEqual({
      type: { dataType: 'String', stringValue: 'spike' },
      severity: { dataType: 'String', stringValue: 'high' },
      project_id: { dataType: 'String', stringValue: 'proj_abc' },
      api_key_id: { dataType: 'String', stringValue: 'none' },
    });
  });

  it('turns a missing topic into a permanent DeliveryError', async () => {
    sns.script.push({ status: 404, code: 'NotFound', message: 'Topic does not exist' });
    const client = new SNSClient({ maxAttempts: 1 });
    const error = await new SnsPublisher({ topicArn: TEST_TOPIC_ARN, client })
      .publish(renderEmailAlert(spikeAlert(), { timeZone: 'UTC' }), soon())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      channel: 'email',
      permanent: true,
      reason: expect.stringMatching(/^NotFound/),
    });
    expect(sns.published).toHaveLength(0);
  });

  it('turns a server error into a retryable DeliveryError', async () => {
    sns.script.push({ status: 500, code: 'InternalError', message: 'try again' });
    const client = new SNSClient({ maxAttempts: 1 });
    await expect(
      new SnsPublisher({ topicArn: TEST_TOPIC_ARN, client }).publish(
        renderEmailAlert(spikeAlert(), { timeZone: 'UTC' }),
        soon(),
      ),
    ).rejects.toMatchObject({ name: 'DeliveryError', permanent: false, status: 500 });
  });
});
