// A Slack incoming webhook on 127.0.0.1: records what is posted and answers as scripted (default 200
// "ok"). The demo shows what would reach a channel through it; the tests check deliveries against it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { closeServer, listenOnLoopback } from './listen-on-loopback.ts';

export interface ScriptedAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  json: unknown;
  /** What the receiver answered. */
  status: number;
}

export interface SlackReceiver {
  /** The webhook URL, with a secret-looking path. */
  url: string;
  /** Every request, answered ones included. */
  requests: ReceivedPost[];
  /** Posts answered 2xx: the messages a channel would show. */
  delivered(): unknown[];
  /** Answers for the next requests, in order; then `fallback`. */
  script: ScriptedAnswer[];
  fallback: ScriptedAnswer;
  close(): Promise<void>;
}

export interface SlackReceiverOptions {
  /** Called for each post answered 2xx, with its JSON body (the demo prints it). */
  onDelivered?: (json: unknown) => void;
}

export const WEBHOOK_SECRET_PATH = '/services/T0SECRET/B0SECRET/xoxSuperSecretWebhookToken42';

export async function startSlackReceiver(
  path = WEBHOOK_SECRET_PATH,
  options: SlackReceiverOptions = {},
): Promise<SlackReceiver> {
  const receiver: SlackReceiver = {
    url: '',
    requests: [],
    delivered: () => receiver.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.json),
    script: [],
    fallback: { status: 200, body: 'ok' },
    close: () => closeServer(server),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = receiver.script.shift() ?? receiver.fallback;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        json = undefined;
      }
      receiver.requests.push({ path: req.url ?? '', headers: req.headers, json, status: answer.status });
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body ?? (answer.status < 300 ? 'ok' : ''));
      if (answer.status >= 200 && answer.status < 300) options.onDelivered?.(json);
    });
  });
  receiver.url = `${await listenOnLoopback(server)}${path}`;
  return receiver;
}
