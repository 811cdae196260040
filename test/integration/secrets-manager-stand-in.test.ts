// The Secrets Manager stand-in as the real SDK sees it: found by AWS_ENDPOINT_URL_SECRETS_MANAGER,
// answering GetSecretValue by ARN or name, and ResourceNotFoundException for anything else.
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  localSecretArn,
  type SecretsManagerStandIn,
  startSecretsManagerStandIn,
} from '../../functions/local/secrets-manager-stand-in.ts';

const ARN = localSecretArn('usage-sentinel/openai-admin-key');
let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({ [ARN]: 'sk-admin-from-the-stand-in', 'plain-name': 'plain' });
  // The variable the SDK derives from the service id "Secrets Manager"; no endpoint in the code.
  const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = standIn.url;
  try {
    client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    // The endpoint is resolved lazily: make the first call while the variable is set.
    await client.send(new GetSecretValueCommand({ SecretId: 'plain-name' }));
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
  }
});

afterAll(async () => {
  client?.destroy();
  await standIn?.close();
});

describe('Secrets Manager stand-in', () => {
  it('is reached through AWS_ENDPOINT_URL_SECRETS_MANAGER', () => {
    expect(standIn.requests[0]).toEqual({ operation: 'GetSecretValue', secretId: 'plain-name', status: 200 });
  });

  it('answers GetSecretValue by ARN with the ARN, the name and the value', async () => {
    const res = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    expect(res).toMatchObject({
      ARN,
      Name: 'usage-sentinel/openai-admin-key',
      SecretString: 'sk-admin-from-the-stand-in',
      VersionStages: ['AWSCURRENT'],
    });
    expect(res.VersionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('finds a secret given by ARN under its name too', async () => {
    const res = await client.send(new GetSecretValueCommand({ SecretId: 'usage-sentinel/openai-admin-key' }));
    expect(res.SecretString).toBe('sk-admin-from-the-stand-in');
  });

  it('throws ResourceNotFoundException for an unknown secret', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(standIn.requests.at(-1)).toEqual({ operation: 'GetSecretValue', secretId: 'nope', status: 400 });
  });

  it('serves a new value after putSecret, as after put-secret-value', async () => {
    const before = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    standIn.putSecret('usage-sentinel/openai-admin-key', 'sk-admin-rotated');
    const after = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    expect(after.SecretString).toBe('sk-admin-rotated');
    expect(after.VersionId).not.toBe(before.VersionId);
  });
});
