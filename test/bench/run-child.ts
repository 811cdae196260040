// One timed process of the scale benchmark (spawned by run.ts, timed from spawn to exit):
//   real  --endpoint E --table T --api-base U --now S [--deadline-seconds N]
//         one scheduled run as the Lambda does it (assembleRun + runScheduledEvaluation), dry run.
//   floor --endpoint E --table T --api-base U --start S
//         the least any run must do: fetch the hour's pages with the same client settings, then
//         BatchGetItem and BatchWriteItem one state item per series in them.
// The last stdout line is `BENCH_RESULT <json>` with phase times and the RSS high-water mark.
import { parseArgs } from 'node:util';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';

const started = performance.now();
const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    table: { type: 'string' },
    'api-base': { type: 'string' },
    now: { type: 'string' },
    start: { type: 'string' },
    'deadline-seconds': { type: 'string', default: '285' },
  },
});
const mode = positionals[0];
const need = (name: keyof typeof args): string => {
  const value = args[name];
  if (typeof value !== 'string' || !value) throw new Error(`run-child: --${name} is required`);
  return value;
};

const phases: Record<string, number> = {};
const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    phases[name] = (phases[name] ?? 0) + (performance.now() - t0);
  }
};

let extra: Record<string, unknown> = {};
if (mode === 'real') extra = await realRun();
else if (mode === 'floor') extra = await floorRun();
else throw new Error(`run-child: unknown mode ${String(mode)} (real | floor)`);

const result = {
  mode,
  ...extra,
  phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])),
  inProcessMs: Math.round(performance.now() - started),
  // Kilobytes on Linux: the child's RSS high-water mark.
  maxRssKb: process.resourceUsage().maxRSS,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);

async function realRun(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const [{ Logger }, { parseConfig }, { assembleRun }, { runScheduledEvaluation }, local, standIn] =
    await Promise.all([
      import('@aws-lambda-powertools/logger'),
      import('../../functions/config/parse-config.ts'),
      import('../../functions/assemble-run.ts'),
      import('../../functions/core/run-scheduled-evaluation.ts'),
      import('../../functions/local/embedded-dynamodb.ts'),
      import('../../functions/local/usage-api-stand-in.ts'),
    ]);
  phases.import = performance.now() - t0;
  const startedMs = Date.now();
  const config = parseConfig({});
  // As the handler logs: Powertools' JSON logger, INFO and up (captured by the parent, not shown).
  const logger = new Logger({ serviceName: 'usage-sentinel-bench' });
  const runLogger = {
    debug: (m: string, a?: Record<string, unknown>) => logger.debug(m, a ?? {}),
    info: (m: string, a?: Record<string, unknown>) => logger.info(m, a ?? {}),
    warn: (m: string, a?: Record<string, unknown>) => logger.warn(m, a ?? {}),
    error: (m: string, a?: Record<string, unknown>) => logger.error(m, a ?? {}),
  };
  const dynamoDb = local.localDynamoDbClient(need('endpoint'));
  const run = assembleRun({
    config,
    dynamoDb,
    tableName: need('table'),
    apiBase: need('api-base'),
    adminKey: standIn.STAND_IN_ADMIN_KEY,
    dryRun: true,
    runId: `bench-${process.pid}`,
    logger: runLogger,
  });
  // Phase timings only: the same objects are called, wrapped.
  const deps = run.deps;
  const source = deps.usageSource;
  deps.usageSource = {
    readHours: (range, deadline) => timed('readHours', () => source.readHours(range, deadline)),
  };
  const evaluator = deps.evaluator;
  deps.evaluator = {
    evaluate: (hour, options) => timed('evaluate', () => evaluator.evaluate(hour, options)),
  };
  const loadNames = deps.loadNames;
  if (loadNames) deps.loadNames = () => timed('loadNames', loadNames);
  const outbox = deps.outbox;
  deps.outbox = { record: (alerts) => timed('recordAlerts', () => outbox.record(alerts)) };

  const deadlineSeconds = Number(args['deadline-seconds']);
  const report = await timed('run', () =>
    runScheduledEvaluation(deps, {
      runId: `bench-${process.pid}`,
      now: Number(need('now')),
      graceMinutes: config.schedule.graceMinutes,
      deadline: { atMs: startedMs + deadlineSeconds * 1000 },
    }),
  );
  await run.close();
  dynamoDb.destroy();
  return {
    outcome: report.outcome,
    hoursEvaluated: report.hoursEvaluated,
    hoursLeftPending: report.hoursLeftPending,
    seriesEvaluated: report.seriesEvaluated,
    alerts: report.alerts.length,
    error: report.error?.message,
  };
}

async function floorRun(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const [{ Agent, request }, ddb, local, standIn] = await Promise.all([
    import('undici'),
    import('@aws-sdk/client-dynamodb'),
    import('../../functions/local/embedded-dynamodb.ts'),
    import('../../functions/local/usage-api-stand-in.ts'),
  ]);
  phases.import = performance.now() - t0;
  const table = need('table');
  const start = Number(need('start'));
  // The usage client's settings (AdminApiClient): keep-alive Agent, 8 connections, same query.
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  const base = `${need('api-base')}/organization/usage/completions`;
  const query = new URLSearchParams([
    ['start_time', String(start)],
    ['end_time', String(start + 3600)],
    ['bucket_width', '1h'],
    ['limit', '168'],
    ['group_by', 'project_id'],
    ['group_by', 'api_key_id'],
    ['group_by', 'model'],
  ]);
  const series = new Set<string>();
  let pages = 0;
  await timed('fetchPages', async () => {
    let cursor: string | null = null;
    do {
      const url: string = `${base}?${query}${cursor ? `&page=${encodeURIComponent(cursor)}` : ''}`;
      const res = await request(url, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${standIn.STAND_IN_ADMIN_KEY}`, accept: 'application/json' },
      });
      if (res.statusCode !== 200) throw new Error(`floor: usage page answered ${res.statusCode}`);
      const page = JSON.parse(await res.body.text()) as FloorPage;
      for (const bucket of page.data)
        for (const r of bucket.results) series.add(`${r.project_id}#${r.api_key_id ?? '-'}`);
      pages += 1;
      cursor = page.has_more ? (page.next_page ?? null) : null;
    } while (cursor);
  });
  await agent.close();

  const client = local.localDynamoDbClient(need('endpoint'));
  const keys = [...series].map((s) => ({ pk: { S: `series#${s}` }, sk: { S: 'state' } }));
  const items: Array<Record<string, AttributeValue>> = [];
  await timed('batchGet', () =>
    inParallel(chunks(keys, 100), async (chunk) => {
      let pending = chunk;
      while (pending.length) {
        const res = await client.send(
          new ddb.BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(res.Responses?.[table] ?? []));
        pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as typeof chunk;
      }
    }),
  );
  // One item per series: its state item written back as read (a fresh database each run, see run.ts);
  // a series without one gets a copy of another's, the same size.
  const template = items[0];
  if (!template) throw new Error('floor: no state items to read; was the table primed?');
  const found = new Map(items.map((item) => [item.pk?.S, item]));
  const writes = keys.map((key) => found.get(key.pk.S) ?? { ...template, pk: key.pk });
  await timed('batchWrite', () =>
    inParallel(chunks(writes, 25), async (chunk) => {
      let pending: WriteRequest[] = chunk.map((Item) => ({
        PutRequest: { Item },
      }));
      while (pending.length) {
        const res = await client.send(new ddb.BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = res.UnprocessedItems?.[table] ?? [];
      }
    }),
  );
  client.destroy();
  return { pages, series: series.size, itemsRead: items.length, itemsWritten: writes.length };
}

interface FloorPage {
  has_more: boolean;
  next_page?: string | null;
  data: Array<{ results: Array<{ project_id: string | null; api_key_id: string | null }> }>;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Eight requests in flight, as batch-io does by default. */
async function inParallel<T>(list: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const item = list[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, list.length) }, worker));
}
