// A Secrets Manager endpoint on 127.0.0.1 for GetSecretValue, speaking the JSON protocol the SDK uses
// (POST, X-Amz-Target: secretsmanager.GetSecretValue, application/x-amz-json-1.1). Reached through
// AWS_ENDPOINT_URL_SECRETS_MANAGER, so the Lambda bundle reads its secrets locally, unchanged.
// Records which secret each request asked for, never the values it answered.
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './listen-on-loopback.ts';

export interface SecretsRequest {
  /** The X-Amz-Target operation, e.g. "GetSecretValue". */
  operation: string;
  secretId: string | undefined;
  status: number;
}

export interface SecretsManagerStandIn {
  /** e.g. "http://127.0.0.1:41234": the value for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  url: string;
  requests: SecretsRequest[];
  /** Adds or replaces a secret's value. */
  putSecret(secretId: string, value: string): void;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'secretsmanager.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Serves `secrets` (ARN or name -> SecretString). A secret is found by the key it was given under or
 * by its name (the ARN's part after ":secret:").
 */
export async function startSecretsManagerStandIn(
  secrets: Record<string, string> = {},
): Promise<SecretsManagerStandIn> {
  const store = new Map<string, string>(Object.entries(secrets));
  const requests: SecretsRequest[] = [];

  const find = (secretId: string): { key: string; value: string } | undefined => {
    for (const [key, value] of store) {
      if (key === secretId || nameOf(key) === secretId || tailOf(key) === secretId) return { key, value };
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      let body: { SecretId?: unknown } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: unknown };
      } catch {
        // Answered below as a validation error.
      }
      const secretId = typeof body.SecretId === 'string' ? body.SecretId : undefined;
      const recorded: SecretsRequest = { operation, secretId, status: 0 };
      requests.push(recorded);
      const send = (status: number, payload: unknown) => {
        recorded.status = status;
        reply(res, status, payload);
      };
      if (req.method !== 'POST' || operation !== 'GetSecretValue') {
        send(400, {
          __type: 'UnknownOperationException',
          message: `${target || 'no operation'} is not served here`,
        });
        return;
      }
      if (!secretId) {
        send(400, { __type: 'ValidationException', message: 'SecretId is required' });
        return;
      }
      const found = find(secretId);
      if (!found) {
        send(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      send(200, {
        ARN: arnOf(found.key),
        Name: nameOf(found.key),
        SecretString: found.value,
        VersionId: versionIdOf(found.value),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    putSecret: (secretId, value) => {
      store.set(find(secretId)?.key ?? secretId, value);
    },
    close: () => closeServer(server),
  };
}

/** An ARN shaped like the ones Secrets Manager gives (random six-character suffix included). */
export function localSecretArn(name: string, region = 'us-east-1', account = '123456789012'): string {
  const suffix = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${suffix}`;
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const bytes = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': String(bytes.length),
    'x-amzn-requestid': createHash('sha256')
      .update(`${Date.now()}${Math.random()}`)
      .digest('hex')
      .slice(0, 32),
  });
  res.end(bytes);
}

/** What follows ":secret:" in an ARN: the name and Secrets Manager's random six-character suffix. */
const tailOf = (key: string): string => {
  const at = key.indexOf(':secret:');
  return at === -1 ? key : key.slice(at + ':secret:'.length);
};

const nameOf = (key: string): string =>
  key.startsWith('arn:') ? tailOf(key).replace(/-[A-Za-z0-9]{6}$/, '') : key;

const arnOf = (key: string): string => (key.startsWith('arn:') ? key : localSecretArn(key));

/** Stable per value: a changed value is a new version, as after put-secret-value. */
const versionIdOf = (value: string): string => {
  const h = createHash('sha256').update(value).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
