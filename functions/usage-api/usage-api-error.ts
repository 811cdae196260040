// The one error the OpenAI admin API clients throw. It carries what a caller decides on (kind, status)
// and a message fit for logs; never request options or headers, so the admin key cannot leak through it.
export type UsageApiErrorKind =
  /** 401/403: the key is wrong, revoked or not an admin key. Retrying does not help. */
  | 'auth'
  /** Another 4xx (400, 404, ...): the request is wrong. Retrying does not help. */
  | 'client'
  /** A body that is not JSON or not the documented shape. */
  | 'schema'
  /** The next attempt could not finish before the caller's deadline; the work stays pending. */
  | 'deadline'
  /** Rate limits, 5xx, timeouts or network errors outlasted every attempt. */
  | 'unavailable';

export class UsageApiError extends Error {
  override name = 'UsageApiError';
  readonly kind: UsageApiErrorKind;
  /** The HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** The API path asked for (no host, no query), e.g. "/organization/usage/completions". */
  readonly path: string | undefined;

  constructor(kind: UsageApiErrorKind, message: string, details: { status?: number; path?: string } = {}) {
    super(message);
    this.kind = kind;
    this.status = details.status;
    this.path = details.path;
  }

  /** Whether a later run may succeed where this one failed (the hours stay pending either way). */
  get transient(): boolean {
    return this.kind === 'deadline' || this.kind === 'unavailable';
  }
}
