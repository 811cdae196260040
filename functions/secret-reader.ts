// Reads the function's two secrets from Secrets Manager, caching them briefly per container so a
// rotated value is picked up within minutes. Values are never logged; errors name the secret only.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SECRET_PLACEHOLDER } from './deployment-contract.ts';

const CACHE_MS = 5 * 60 * 1000;

export class SecretReader {
  readonly #client: SecretsManagerClient;
  readonly #cache = new Map<string, { value: string | undefined; readAtMs: number }>();

  constructor(client: SecretsManagerClient) {
    this.#client = client;
  }

  /** The secret's value, or undefined while it still holds the stack's placeholder or is empty. */
  async read(secretId: string): Promise<string | undefined> {
    const cached = this.#cache.get(secretId);
    if (cached && Date.now() - cached.readAtMs < CACHE_MS) return cached.value;
    let raw: string | undefined;
    try {
      raw = (await this.#client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new Error(`cannot read secret ${secretId} (${name}); check the function's access and the ARN`);
    }
    const value = raw?.trim();
    const usable = value && value !== SECRET_PLACEHOLDER ? value : undefined;
    this.#cache.set(secretId, { value: usable, readAtMs: Date.now() });
    return usable;
  }
}
