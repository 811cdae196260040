// GET + JSON against OpenAI's admin endpoints, with the retry policy every caller shares: 429, 5xx,
// timeouts, network errors and cut-off bodies are retried with exponential backoff and full jitter
// (Retry-After wins when the API sends it), bounded by the caller's deadline. 4xx other than 429 fail
// at once. The admin key lives in one private field and goes only into the Authorization header.
import { Agent, type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import type { Deadline } from '../core/usage.ts';
import { UsageApiError } from './usage-api-error.ts';
import { describeSchemaIssues, errorBodySchema } from './usage-page-schema.ts';

/** The subset of a logger (Powertools' Logger fits) the clients write to. */
export interface ApiLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface RetryInfo {
  /** API path, no host or query. */
  path: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  /** e.g. "status 429", "timeout", "network: other side closed". */
  reason: string;
  status?: number;
  /** Whether the delay came from a Retry-After header. */
  retryAfter: boolean;
}

/** The OpenAI API's own base, used unless OPENAI_BASE_URL (or --api-base) says otherwise. */
export const DEFAULT_API_BASE = 'https://api.openai.com/v1';

export interface AdminApiClientOptions {
  /** e.g. "https://api.openai.com/v1"; the API's own paths are appended. */
  apiBase: string;
  adminKey: string;
  /** One attempt, headers and body, at most this long. Default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request, the first included. Default 6. */
  maxAttempts?: number;
  /** Full-jitter backoff: attempt n waits random(0, min(maxMs, baseMs * 2^(n-1))). Default 1 s, 30 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * Time an attempt needs before the deadline to be worth starting. Default min(requestTimeoutMs, 2 s).
   * A retry whose wait would leave less than this throws kind `deadline` instead of waiting.
   */
  minAttemptMs?: number;
  onRetry?: (info: RetryInfo) => void;
  logger?: ApiLogger;
  /** An undici dispatcher to share; by default the client makes its own keep-alive Agent. */
  dispatcher?: Dispatcher;
  /** [0, 1) source for the jitter; Math.random by default. */
  random?: () => number;
}

export type QueryParams = ReadonlyArray<readonly [string, string]>;

type AttemptOutcome =
  | { kind: 'body'; text: string }
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number }
  | { kind: 'fail'; error: UsageApiError };

const MAX_ERROR_BODY_CHARS = 64 * 1024;

export class AdminApiClient {
  readonly #apiBase: string;
  readonly #adminKey: string;
  readonly #requestTimeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #minAttemptMs: number;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #logger: ApiLogger | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #random: () => number;

  constructor(options: AdminApiClientOptions) {
    if (!options.adminKey) throw new UsageApiError('auth', 'No OpenAI admin key given (OPENAI_ADMIN_KEY)');
    this.#apiBase = options.apiBase.replace(/\/+$/, '');
    this.#adminKey = options.adminKey;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 6);
    this.#backoffBaseMs = options.backoff?.baseMs ?? 1_000;
    this.#backoffMaxMs = options.backoff?.maxMs ?? 30_000;
    this.#minAttemptMs = options.minAttemptMs ?? Math.min(this.#requestTimeoutMs, 2_000);
    this.#onRetry = options.onRetry;
    this.#logger = options.logger;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 8 });
    this.#random = options.random ?? Math.random;
  }

  /** Closes the keep-alive connections of the client's own Agent (not of a shared dispatcher). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** GETs `path` and validates the JSON body; throws UsageApiError with a kind a caller can act on. */
  async getJson<S extends z.ZodType>(
    path: string,
    query: QueryParams,
    schema: S,
    deadline: Deadline,
  ): Promise<z.output<S>> {
    const text = await this.getText(path, query, deadline);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageApiError('schema', `OpenAI usage API sent a body that is not JSON for ${path}`, {
        path,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new UsageApiError(
        'schema',
        `OpenAI usage API answer for ${path} does not match the expected shape: ${describeSchemaIssues(parsed.error)}`,
        { path, status: 200 },
      );
    }
    return parsed.data;
  }

  async getText(path: string, query: QueryParams, deadline: Deadline): Promise<string> {
    const url = this.#url(path, query);
    for (let attempt = 1; ; attempt++) {
      const remainingMs = deadline.atMs - Date.now();
      if (remainingMs < this.#minAttemptMs) {
        throw new UsageApiError('deadline', `No time left before the deadline to ask ${path}`, { path });
      }
      const outcome = await this.#attempt(url, path, Math.min(this.#requestTimeoutMs, remainingMs));
      if (outcome.kind === 'body') return outcome.text;
      if (outcome.kind === 'fail') throw outcome.error;

      if (attempt >= this.#maxAttempts) {
        throw new UsageApiError(
          'unavailable',
          `OpenAI usage API did not answer ${path} after ${attempt} attempts (last: ${outcome.reason})`,
          { path, status: outcome.status },
        );
      }
      const delayMs = outcome.retryAfterMs ?? this.#jitteredBackoff(attempt);
      const leftAfterWaitMs = deadline.atMs - Date.now() - delayMs;
      if (leftAfterWaitMs < this.#minAttemptMs) {
        throw new UsageApiError(
          'deadline',
          `${outcome.retryAfterMs === undefined ? 'backing off' : 'OpenAI usage API asked to wait'} ${Math.ceil(delayMs / 1000)} s before retrying ${path} (${outcome.reason}); the next attempt could not finish before the deadline`,
          { path, status: outcome.status },
        );
      }
      const info: RetryInfo = {
        path,
        attempt,
        delayMs,
        reason: outcome.reason,
        retryAfter: outcome.retryAfterMs !== undefined,
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
      };
      this.#logger?.warn('OpenAI usage API: retrying', { ...info });
      this.#onRetry?.(info);
      await sleep(delayMs);
    }
  }

  async #attempt(url: string, path: string, timeoutMs: number): Promise<AttemptOutcome> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        signal: abort.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: { authorization: `Bearer ${this.#adminKey}`, accept: 'application/json' },
      });
      const status = response.statusCode;
      const text = await response.body.text();
      this.#logger?.debug('OpenAI usage API answered', { path, status, bytes: text.length });
      if (status >= 200 && status < 300) return { kind: 'body', text };
      if (status === 429 || status === 408 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        return {
          kind: 'retry',
          reason: `status ${status}`,
          status,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      }
      const apiMessage = this.#scrub(errorMessageOf(text));
      return {
        kind: 'fail',
        error: new UsageApiError(
          status === 401 || status === 403 ? 'auth' : 'client',
          `OpenAI usage API answered ${status}: ${apiMessage} (GET ${path})`,
          { status, path },
        ),
      };
    } catch (error) {
      // Never keep the undici error (it may reference the request); its message and code are enough.
      if (abort.signal.aborted) return { kind: 'retry', reason: `timeout after ${timeoutMs} ms` };
      return { kind: 'retry', reason: `network: ${this.#scrub(describeNetworkError(error))}` };
    } finally {
      clearTimeout(timer);
    }
  }

  #jitteredBackoff(attempt: number): number {
    const cap = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(this.#random() * cap);
  }

  #url(path: string, query: QueryParams): string {
    const search = new URLSearchParams();
    for (const [name, value] of query) search.append(name, value);
    const qs = search.toString();
    return `${this.#apiBase}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Whatever a server echoes back, the key (or anything shaped like a key) never reaches a message. */
  #scrub(text: string): string {
    return redactKeys(text.split(this.#adminKey).join('[redacted]'));
  }
}

/** Masks anything shaped like an OpenAI key, even partly masked ones such as "sk-admi***wxyz". */
export function redactKeys(text: string): string {
  return text.replace(/\bsk-[A-Za-z0-9_*.-]{4,}/g, 'sk-[redacted]');
}

function errorMessageOf(text: string): string {
  const clipped = text.slice(0, MAX_ERROR_BODY_CHARS);
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(clipped));
    const message = parsed.success ? parsed.data.error.message : undefined;
    if (message) return message.slice(0, 500);
  } catch {
    // Not JSON: fall through to a short excerpt.
  }
  const excerpt = clipped.replace(/\s+/g, ' ').trim().slice(0, 200);
  return excerpt || '(empty body)';
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

/** Retry-After in seconds (or an HTTP date), as milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
