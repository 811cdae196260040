// A DynamoDB endpoint on 127.0.0.1 that forwards to another one (dynalite) and injects the faults real
// DynamoDB shows under load: throttling errors (HTTP 400 with the JSON `__type`, as the service sends
// them) and batch items left unprocessed. The SDK talks to it over a real socket with its own retries,
// so the fault tests see exactly what the code does about them. Faults only; it changes nothing else.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { closeServer, listenOnLoopback } from './listen-on-loopback.ts';

export type ThrottleError = 'ProvisionedThroughputExceededException' | 'ThrottlingException';

export type DynamoDbFaultEffect =
  /** Answers 400 with this error, as DynamoDB does when a table or partition is over its capacity. */
  | { kind: 'throttle'; error?: ThrottleError }
  /**
   * BatchWriteItem / BatchGetItem only: part of the batch comes back in UnprocessedItems/UnprocessedKeys
   * and only the rest is applied. `leaveIf` picks the entries left unprocessed by a text their JSON
   * contains (a hot partition's key); by default the second half of the batch (a batch of one: all).
   */
  | { kind: 'unprocessed'; leaveIf?: string };

export type DynamoDbFault = DynamoDbFaultEffect & {
  /** Operation names as in X-Amz-Target, e.g. ["BatchWriteItem", "PutItem"]; default all. */
  operations?: readonly string[];
  /** Only requests whose JSON body contains this text, e.g. '"S":"outbox"'. */
  bodyIncludes?: string;
  /** Lets this many requests it applies to through untouched first (a fault that starts mid-run). */
  after?: number;
  /** Then only the next N requests it applies to (default: all, until the faults are replaced). */
  times?: number;
};

export interface ProxiedRequest {
  operation: string;
  fault?: DynamoDbFaultEffect['kind'];
  /** Entries left unprocessed in this answer. */
  unprocessed?: number;
  status: number;
}

export interface DynamoDbFaultProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  /** Replaces the active faults (an empty list clears them). */
  setFaults(faults: DynamoDbFault[]): void;
  stop(): Promise<void>;
}

const THROTTLE_TYPES: Record<ThrottleError, { type: string; message: string }> = {
  ProvisionedThroughputExceededException: {
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  ThrottlingException: {
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Throughput exceeds the current capacity of your table or index. Please try again shortly.',
  },
};

interface ActiveFault {
  fault: DynamoDbFault;
  spared: number;
  left: number;
}

type Json = Record<string, unknown>;

/** Starts the proxy in front of `target` (e.g. the embedded DynamoDB's endpoint). */
export async function startDynamoDbFaultProxy(options: {
  target: string;
  faults?: DynamoDbFault[];
}): Promise<DynamoDbFaultProxy> {
  const target = new URL(options.target);
  const requests: ProxiedRequest[] = [];
  let active: ActiveFault[] = [];
  const setFaults = (faults: DynamoDbFault[]): void => {
    active = faults.map((fault) => ({
      fault,
      spared: fault.after ?? 0,
      left: fault.times ?? Number.POSITIVE_INFINITY,
    }));
  };
  setFaults(options.faults ?? []);

  const takeFault = (operation: string, body: string): DynamoDbFaultEffect | undefined => {
    const hit = active.find(
      ({ fault, left }) =>
        left > 0 &&
        (fault.operations === undefined || fault.operations.includes(operation)) &&
        (fault.bodyIncludes === undefined || body.includes(fault.bodyIncludes)) &&
        (fault.kind === 'throttle' || operation === 'BatchWriteItem' || operation === 'BatchGetItem'),
    );
    if (!hit) return undefined;
    if (hit.spared > 0) {
      hit.spared -= 1;
      return undefined;
    }
    hit.left -= 1;
    return hit.fault;
  };

  const forward = (headers: IncomingHttpHeaders, body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const bytes = Buffer.from(body);
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/',
          // The body may have changed: its length with it. dynalite does not check signatures.
          headers: { ...headers, host: target.host, 'content-length': String(bytes.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(bytes);
    });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const recorded: ProxiedRequest = { operation, status: 0 };
      requests.push(recorded);
      const reply = (status: number, json: unknown): void => {
        recorded.status = status;
        const text = JSON.stringify(json);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(text)),
          'x-amzn-requestid': `fault-proxy-${requests.length}`,
        });
        res.end(text);
      };
      const fault = takeFault(operation, body);
      if (fault) recorded.fault = fault.kind;
      if (fault?.kind === 'throttle') {
        const error = THROTTLE_TYPES[fault.error ?? 'ProvisionedThroughputExceededException'];
        reply(400, { __type: error.type, message: error.message });
        return;
      }
      const split = fault?.kind === 'unprocessed' ? splitBatch(operation, body, fault.leaveIf) : undefined;
      if (split && split.forwarded === '') {
        recorded.unprocessed = split.count;
        reply(
          200,
          operation === 'BatchGetItem' ? { Responses: {}, ...split.unprocessed } : split.unprocessed,
        );
        return;
      }
      forward(req.headers, split ? split.forwarded : body).then(
        ({ status, text }) => {
          if (!split || status !== 200) {
            recorded.status = status;
            res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
            res.end(text);
            return;
          }
          recorded.unprocessed = split.count;
          reply(200, { ...(JSON.parse(text) as Json), ...split.unprocessed });
        },
        () => reply(500, { __type: 'com.amazonaws.dynamodb#InternalServerError', message: 'proxy' }),
      );
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    requests,
    setFaults,
    stop: () => closeServer(server),
  };
}

interface SplitBatch {
  /** The request with the unprocessed part taken out. */
  forwarded: string;
  /** UnprocessedItems or UnprocessedKeys, as the answer carries them. */
  unprocessed: Json;
  count: number;
}

/** Takes the entries to leave unprocessed out of a batch request. */
function splitBatch(operation: string, body: string, leaveIf: string | undefined): SplitBatch {
  const request = JSON.parse(body) as { RequestItems: Record<string, unknown> };
  const forwardedItems: Record<string, unknown> = {};
  const left: Record<string, unknown> = {};
  let count = 0;
  const pick = <T>(entries: T[]): { kept: T[]; leave: T[] } => {
    // At least one entry left unprocessed, even of a batch of one.
    const half = Math.floor(entries.length / 2);
    const leaveIt = (entry: T, i: number) =>
      leaveIf === undefined ? i >= half : JSON.stringify(entry).includes(leaveIf);
    return {
      kept: entries.filter((e, i) => !leaveIt(e, i)),
      leave: entries.filter((e, i) => leaveIt(e, i)),
    };
  };
  for (const [table, value] of Object.entries(request.RequestItems)) {
    if (operation === 'BatchWriteItem') {
      const { kept, leave } = pick(value as unknown[]);
      if (kept.length) forwardedItems[table] = kept;
      if (leave.length) left[table] = leave;
      count += leave.length;
    } else {
      const { Keys, ...rest } = value as { Keys: unknown[] };
      const { kept, leave } = pick(Keys);
      if (kept.length) forwardedItems[table] = { ...rest, Keys: kept };
      if (leave.length) left[table] = { ...rest, Keys: leave };
      count += leave.length;
    }
  }
  // Nothing left to apply: answered without forwarding (DynamoDB refuses an empty batch).
  const forwarded = Object.keys(forwardedItems).length
    ? JSON.stringify({ ...request, RequestItems: forwardedItems })
    : '';
  const key = operation === 'BatchWriteItem' ? 'UnprocessedItems' : 'UnprocessedKeys';
  return { forwarded, unprocessed: { [key]: left }, count };
}
