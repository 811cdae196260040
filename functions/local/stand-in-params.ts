// Query-string reading for the usage API stand-in, as the real API accepts it: arrays both as brackets
// (`group_by[]=x`, the SDKs' style) and as repeated keys (`group_by=x`, the cookbook's), limits per
// bucket width, and the API's error body for anything out of bounds.
import {
  BUCKET_LIMITS,
  type BucketWidth,
  COSTS_GROUP_FIELDS,
  type CostsGroupField,
  type CostsQuery,
  USAGE_GROUP_FIELDS,
  type UsageGroupField,
  type UsageQuery,
} from './simulated-usage-pages.ts';

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class InvalidRequest extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  constructor(message: string, param: string | null, code: string | null = 'invalid_value', status = 400) {
    super(message);
    this.status = status;
    this.body = { error: { message, type: 'invalid_request_error', param, code } };
  }
}

/** Both encodings of an array parameter, in order. */
export function arrayParam(params: URLSearchParams, name: string): string[] {
  return [...params.getAll(name), ...params.getAll(`${name}[]`)].filter((v) => v !== '');
}

function integerParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw))
    throw new InvalidRequest(`Invalid value for '${name}': expected an integer.`, name);
  return Number(raw);
}

function booleanParam(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new InvalidRequest(`Invalid value for '${name}': expected a boolean.`, name);
}

function startAndEnd(params: URLSearchParams): { startTime: number; endTime?: number } {
  const startTime = integerParam(params, 'start_time');
  if (startTime === undefined) {
    throw new InvalidRequest(
      "Missing required parameter: 'start_time'.",
      'start_time',
      'missing_required_parameter',
    );
  }
  const endTime = integerParam(params, 'end_time');
  if (endTime !== undefined && endTime <= startTime) {
    throw new InvalidRequest("Invalid value for 'end_time': must be after 'start_time'.", 'end_time');
  }
  return endTime === undefined ? { startTime } : { startTime, endTime };
}

function limitParam(params: URLSearchParams, bounds: { default: number; max: number }, what: string): number {
  const limit = integerParam(params, 'limit') ?? bounds.default;
  if (limit < 1 || limit > bounds.max) {
    throw new InvalidRequest(
      `Invalid value for 'limit': must be between 1 and ${bounds.max}${what}.`,
      'limit',
    );
  }
  return limit;
}

function groupByParam<F extends string>(params: URLSearchParams, allowed: readonly F[]): F[] {
  const values = arrayParam(params, 'group_by');
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidRequest(
        `Invalid value for 'group_by': '${value}' is not one of ${allowed.map((a) => `'${a}'`).join(', ')}.`,
        'group_by',
      );
    }
  }
  return [...new Set(values)] as F[];
}

export function parseUsageQuery(params: URLSearchParams): UsageQuery {
  const width = params.get('bucket_width') ?? '1d';
  if (width !== '1m' && width !== '1h' && width !== '1d') {
    throw new InvalidRequest(
      `Invalid value for 'bucket_width': '${width}' is not one of '1m', '1h', '1d'.`,
      'bucket_width',
    );
  }
  const bucketWidth: BucketWidth = width;
  const q: UsageQuery = {
    ...startAndEnd(params),
    bucketWidth,
    limit: limitParam(params, BUCKET_LIMITS[bucketWidth], ` for bucket_width=${bucketWidth}`),
    groupBy: groupByParam<UsageGroupField>(params, USAGE_GROUP_FIELDS),
    projectIds: arrayParam(params, 'project_ids'),
    userIds: arrayParam(params, 'user_ids'),
    apiKeyIds: arrayParam(params, 'api_key_ids'),
    models: arrayParam(params, 'models'),
  };
  const batch = booleanParam(params, 'batch');
  if (batch !== undefined) q.batch = batch;
  return q;
}

export function parseCostsQuery(params: URLSearchParams): CostsQuery {
  const width = params.get('bucket_width') ?? '1d';
  if (width !== '1d') {
    throw new InvalidRequest(`Invalid value for 'bucket_width': only '1d' is supported.`, 'bucket_width');
  }
  return {
    ...startAndEnd(params),
    limit: limitParam(params, { default: 7, max: 180 }, ''),
    groupBy: groupByParam<CostsGroupField>(params, COSTS_GROUP_FIELDS),
    projectIds: arrayParam(params, 'project_ids'),
    apiKeyIds: arrayParam(params, 'api_key_ids'),
  };
}

/** List endpoints: limit 1-100 (default 20) and the `after` cursor. */
export function parseListQuery(params: URLSearchParams): { limit: number; after: string | undefined } {
  return {
    limit: limitParam(params, { default: 20, max: 100 }, ''),
    after: params.get('after') ?? undefined,
  };
}
