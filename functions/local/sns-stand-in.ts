// An SNS endpoint on 127.0.0.1 speaking the query protocol the SDK uses: form-encoded Action=Publish
// in, an XML PublishResponse out. Records each publish and answers scripted errors when asked. Reached
// through AWS_ENDPOINT_URL_SNS (or a client's endpoint); the demo shows the emails it would send.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeServer, listenOnLoopback } from './listen-on-loopback.ts';

export interface PublishedMessage {
  topicArn: string | null;
  subject: string | null;
  message: string | null;
  attributes: Record<string, { dataType: string; stringValue: string }>;
  messageId: string;
}

export interface SnsErrorAnswer {
  status: number;
  code: string;
  message: string;
}

export interface SnsReceiver {
  url: string;
  published: PublishedMessage[];
  requests: number;
  /** Errors for the next publishes, in order; then `failAll` or success. */
  script: SnsErrorAnswer[];
  failAll: SnsErrorAnswer | undefined;
  close(): Promise<void>;
}

export interface SnsReceiverOptions {
  /** Called for each accepted publish (the demo prints it). */
  onPublished?: (message: PublishedMessage) => void;
}

/** A well-formed topic ARN for local runs; the stand-in accepts any. */
export const LOCAL_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:usage-sentinel-alerts';

export async function startSnsReceiver(options: SnsReceiverOptions = {}): Promise<SnsReceiver> {
  const receiver: SnsReceiver = {
    url: '',
    published: [],
    requests: 0,
    script: [],
    failAll: undefined,
    close: () => closeServer(server),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const requestId = randomUUID();
      const failure = receiver.script.shift() ?? receiver.failAll;
      if (form.get('Action') !== 'Publish' || failure) {
        const f = failure ?? { status: 400, code: 'InvalidAction', message: 'Only Publish is served here' };
        res.writeHead(f.status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>` +
            `<Code>${xml(f.code)}</Code><Message>${xml(f.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const attributes: PublishedMessage['attributes'] = {};
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        const prefix = `MessageAttributes.entry.${i}`;
        attributes[form.get(`${prefix}.Name`) ?? ''] = {
          dataType: form.get(`${prefix}.Value.DataType`) ?? '',
          stringValue: form.get(`${prefix}.Value.StringValue`) ?? '',
        };
      }
      const published: PublishedMessage = {
        topicArn: form.get('TopicArn'),
        subject: form.get('Subject'),
        message: form.get('Message'),
        attributes,
        messageId: randomUUID(),
      };
      receiver.published.push(published);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${published.messageId}</MessageId>` +
          `</PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
      );
      options.onPublished?.(published);
    });
  });
  receiver.url = await listenOnLoopback(server);
  return receiver;
}

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
