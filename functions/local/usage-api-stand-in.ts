// A local stand-in of OpenAI's organization usage API (spec 2.3.0) on 127.0.0.1, serving a simulated
// organization: usage/completions, costs, projects and project API keys, with the API's auth, limits,
// paging, still-filling and revised recent hours, and faults on demand (rate limits, 5xx, slow answers,
// cut-off bodies, schema drift). The demo and the integration tests talk to it over real sockets.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './listen-on-loopback.ts';
import type { SimulatedOrg } from './simulated-org.ts';
import {
  decodeCursor,
  type PageCursor,
  renderCostsPage,
  renderUsagePage,
  type UsagePageJson,
} from './simulated-usage-pages.ts';
import {
  type ApiErrorBody,
  InvalidRequest,
  parseCostsQuery,
  parseListQuery,
  parseUsageQuery,
} from './stand-in-params.ts';

export const STAND_IN_ADMIN_KEY = 'sk-admin-local-stand-in-0000000000000000';

export type FaultEffect =
  /** 429 with the error body; Retry-After (seconds) only when given. */
  | { kind: 'rate-limit'; retryAfterSeconds?: number }
  | { kind: 'server-error'; status?: number }
  /** Any other answer, e.g. 403 on the names endpoints. */
  | { kind: 'status'; status: number; message?: string }
  /** Answers normally after a delay. */
  | { kind: 'slow'; delayMs: number }
  /** Declares the whole body's content-length, sends half, then destroys the socket. */
  | { kind: 'cut-off' }
  /** A renamed field (input_tokens -> prompt_tokens) or a string where a number goes. */
  | { kind: 'schema-drift'; drift: 'renamed-field' | 'string-for-number' };

export type Fault = FaultEffect & {
  /** Only the next N matching requests (default: all, until the window ends or faults are replaced). */
  times?: number;
  /** Only during this many ms from setFaults. */
  forMs?: number;
  /** Only requests whose API path (after /v1) starts with this, e.g. "/organization/projects". */
  path?: string;
};

export interface RecordedRequest {
  method: string;
  /** The API path after /v1, no query. */
  path: string;
  query: Record<string, string[]>;
  /** Which credential came (never the credential itself). */
  auth: 'missing' | 'admin' | 'wrong' | 'project-key';
  status: number;
  fault?: FaultEffect['kind'];
  atMs: number;
}

export interface UsageApiStandInOptions {
  org: SimulatedOrg;
  /** The admin key it accepts. Default STAND_IN_ADMIN_KEY. */
  adminKey?: string;
  /** The clock, unix seconds: the current bucket is still filling, recent ones still revised. */
  now?: () => number;
  /** Usage lands up to this many minutes late (closed hours keep growing that long). Default 15. */
  revisionMinutes?: number;
  maxResultsPerPage?: number;
  /** The costs endpoint sends `amount.value` as a string, as it sometimes does. */
  costAmountsAsStrings?: boolean;
  faults?: Fault[];
}

export interface UsageApiStandIn {
  /** e.g. "http://127.0.0.1:41234/v1". */
  baseUrl: string;
  stop(): Promise<void>;
  requests: RecordedRequest[];
  /** Replaces the active faults (an empty list clears them). */
  setFaults(faults: Fault[]): void;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface ActiveFault {
  fault: Fault;
  left: number;
  untilMs: number;
}

export async function startUsageApiStandIn(options: UsageApiStandInOptions): Promise<UsageApiStandIn> {
  const org = options.org;
  const adminKey = options.adminKey ?? STAND_IN_ADMIN_KEY;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let active: ActiveFault[] = [];

  const setFaults = (faults: Fault[]): void => {
    const setAt = Date.now();
    active = faults.map((fault) => ({
      fault,
      left: fault.times ?? Number.POSITIVE_INFINITY,
      untilMs: fault.forMs === undefined ? Number.POSITIVE_INFINITY : setAt + fault.forMs,
    }));
  };
  setFaults(options.faults ?? []);

  const takeFault = (path: string): FaultEffect | undefined => {
    const nowMs = Date.now();
    const hit = active.find(
      (a) => a.left > 0 && nowMs < a.untilMs && (a.fault.path === undefined || path.startsWith(a.fault.path)),
    );
    if (!hit) return undefined;
    hit.left -= 1;
    return hit.fault;
  };

  const route = (path: string, params: URLSearchParams): Answer => {
    const renderOptions = {
      now: now(),
      revisionMinutes: options.revisionMinutes ?? 15,
      ...(options.maxResultsPerPage === undefined ? {} : { maxResultsPerPage: options.maxResultsPerPage }),
    };
    if (path === '/organization/usage/completions') {
      const query = parseUsageQuery(params);
      return { status: 200, body: renderUsagePage(org, query, cursorOf(params), renderOptions) };
    }
    if (path === '/organization/costs') {
      const query = parseCostsQuery(params);
      const costOptions = { ...renderOptions, amountsAsStrings: options.costAmountsAsStrings === true };
      return { status: 200, body: renderCostsPage(org, query, cursorOf(params), costOptions) };
    }
    if (path === '/organization/projects') {
      const list = parseListQuery(params);
      const projects = org.projects.map((p) => ({
        id: p.id,
        object: 'organization.project',
        name: p.name,
        created_at: p.createdAt,
        archived_at: null,
        status: 'active',
      }));
      return { status: 200, body: listPage(projects, list) };
    }
    const keysMatch = /^\/organization\/projects\/([^/]+)\/api_keys$/.exec(path);
    if (keysMatch) {
      const projectId = decodeURIComponent(keysMatch[1] ?? '');
      if (!org.projects.some((p) => p.id === projectId)) {
        throw new InvalidRequest(`No such project: ${projectId}`, null, null, 404);
      }
      const list = parseListQuery(params);
      const keys = org.keys
        .filter((k) => k.projectId === projectId)
        .map((k) => ({
          object: 'organization.project.api_key',
          redacted_value: k.redactedValue,
          name: k.name,
          created_at: k.createdAt,
          last_used_at: null,
          id: k.id,
          owner_project_access: 'active',
          owner: k.ownerUserId
            ? {
                type: 'user',
                user: {
                  id: k.ownerUserId,
                  name: 'Simulated User',
                  email: 'user@example.com',
                  role: 'member',
                  created_at: k.createdAt,
                },
              }
            : {
                type: 'service_account',
                service_account: {
                  id: `svc_${k.id.slice(4)}`,
                  name: k.name,
                  role: 'member',
                  created_at: k.createdAt,
                },
              },
        }));
      return { status: 200, body: listPage(keys, list) };
    }
    throw new InvalidRequest(`Unknown request URL: GET /v1${path}.`, null, 'unknown_url', 404);
  };

  const answer = (
    res: ServerResponse,
    recorded: RecordedRequest,
    a: Answer,
    fault: FaultEffect | undefined,
  ): void => {
    recorded.status = a.status;
    let body = a.body;
    if (fault?.kind === 'schema-drift' && a.status === 200) body = drift(body, fault.drift);
    const text = JSON.stringify(body);
    const bytes = Buffer.from(text);
    res.writeHead(a.status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      ...a.headers,
    });
    if (fault?.kind === 'cut-off') {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(bytes);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/v1(?=\/)/, '');
    const query: Record<string, string[]> = {};
    for (const name of new Set(url.searchParams.keys())) query[name] = url.searchParams.getAll(name);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      query,
      auth: authOf(req.headers.authorization, adminKey),
      status: 0,
      atMs: Date.now(),
    };
    requests.push(recorded);

    const respond = (fault: FaultEffect | undefined): void => {
      if (res.destroyed || res.writableEnded) return;
      const faultAnswer = recorded.auth === 'admin' ? answerForFault(fault) : authFailure(recorded.auth, req);
      if (faultAnswer) {
        answer(res, recorded, faultAnswer, undefined);
        return;
      }
      let routed: Answer;
      try {
        routed =
          req.method === 'GET'
            ? route(path, url.searchParams)
            : { status: 405, body: errorBody('Method not allowed.', 'invalid_request_error', null) };
      } catch (error) {
        routed =
          error instanceof InvalidRequest
            ? { status: error.status, body: error.body }
            : { status: 500, body: errorBody('Stand-in failure.', 'server_error', null) };
      }
      answer(res, recorded, routed, routed.status === 200 ? fault : undefined);
    };

    const fault = takeFault(path);
    if (fault) recorded.fault = fault.kind;
    if (fault?.kind === 'slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond(undefined);
      }, fault.delayMs);
      timers.add(timer);
      return;
    }
    respond(fault);
  };

  const server = createServer(handle);
  const origin = await listenOnLoopback(server);

  return {
    baseUrl: `${origin}/v1`,
    requests,
    setFaults,
    stop: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return closeServer(server);
    },
  };
}

function cursorOf(params: URLSearchParams): PageCursor | undefined {
  const page = params.get('page');
  if (page === null) return undefined;
  const cursor = decodeCursor(page);
  if (!cursor) throw new InvalidRequest("Invalid value for 'page': not a cursor this API returned.", 'page');
  return cursor;
}

function listPage<T extends { id: string }>(
  items: readonly T[],
  list: { limit: number; after: string | undefined },
) {
  const from = list.after === undefined ? 0 : items.findIndex((item) => item.id === list.after) + 1;
  const data = from === 0 && list.after !== undefined ? [] : items.slice(from, from + list.limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: from + data.length < items.length && data.length > 0,
  };
}

function authOf(header: string | undefined, adminKey: string): RecordedRequest['auth'] {
  const token = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
  if (!token) return 'missing';
  if (token === adminKey) return 'admin';
  if (token.startsWith('sk-proj-')) return 'project-key';
  return 'wrong';
}

function authFailure(auth: RecordedRequest['auth'], req: IncomingMessage): Answer {
  if (auth === 'missing') {
    return {
      status: 401,
      body: errorBody(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      ),
    };
  }
  if (auth === 'project-key') {
    return {
      status: 403,
      body: errorBody(
        'You have insufficient permissions for this operation. Missing scopes: api.usage.read. Use an organization admin key.',
        'invalid_request_error',
        null,
      ),
    };
  }
  // Like the real API: a masked echo of the key, never the key.
  const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
  const masked = `${token.slice(0, 7)}${'*'.repeat(8)}${token.slice(-4)}`;
  return {
    status: 401,
    body: errorBody(
      `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      'invalid_api_key',
    ),
  };
}

/** The answer a fault replaces the real one with; undefined for faults that alter or delay it. */
function answerForFault(fault: FaultEffect | undefined): Answer | undefined {
  switch (fault?.kind) {
    case 'rate-limit':
      return {
        status: 429,
        body: errorBody('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded'),
        headers:
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      };
    case 'server-error':
      return {
        status: fault.status ?? 500,
        body: errorBody('The server had an error while processing your request.', 'server_error', null),
      };
    case 'status':
      return {
        status: fault.status,
        body: errorBody(fault.message ?? `Simulated ${fault.status}.`, 'invalid_request_error', null),
      };
    default:
      return undefined;
  }
}

function errorBody(message: string, type: string, code: string | null): ApiErrorBody {
  return { error: { message, type, param: null, code } };
}

/** Breaks the first result it finds (or the first bucket's start_time when there is none). */
function drift(body: unknown, kind: 'renamed-field' | 'string-for-number'): unknown {
  const page = structuredClone(body) as UsagePageJson;
  if (!Array.isArray(page.data)) return body;
  for (const bucket of page.data) {
    const result = bucket.results[0] as unknown as Record<string, unknown> | undefined;
    if (!result) continue;
    if (kind === 'renamed-field') {
      result.prompt_tokens = result.input_tokens;
      delete result.input_tokens;
    } else result.num_model_requests = String(result.num_model_requests);
    return page;
  }
  const first = page.data[0] as unknown as Record<string, unknown> | undefined;
  if (first) first.start_time = String(first.start_time);
  return page;
}
