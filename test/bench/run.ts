// Scale benchmark (not a test), `npm run bench:run`:
//  1. Steady state: one hourly run of a large simulated org (dynalite + the usage API stand-in on
//     loopback), timed as a whole child process, against a floor measured beside it: a bare process
//     that fetches the same hour's pages and batch-reads and batch-writes one state-sized item per series.
//     Target: median real / median floor <= 2. States are primed in memory with the real detector over
//     the week before the measured hour (run-prime.ts); every timed run gets a fresh dynalite process
//     (run-dynalite.ts) loaded with exactly those states, the name cache and the watermark.
//  2. First run of a 2,000-key org (a week of priming), in a child with a heap sized for a 1 GB Lambda.
//     Target: <= 300 s and <= 1024 MB RSS.
//   node test/bench/run.ts [--keys 22000] [--seed 7] [--repeats 5] [--first-run-keys 2000] [--heap-mb 896]
//                          [--skip-steady] [--skip-first-run] [--profile DIR]
// --keys is the org's size; about 46% of a simulated org's keys have usage in a weekday hour, so the
// default (22,000) puts about 10,000 keys with usage in the measured hour; `--keys 10000` is the
// issue's literal org (about 4,650 keys with usage).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { ensureStateTable, localDynamoDbClient } from '../../functions/local/embedded-dynamodb.ts';
import { type SimulatedOrg, simulateOrganization } from '../../functions/local/simulated-org.ts';
import { STAND_IN_ADMIN_KEY, startUsageApiStandIn } from '../../functions/local/usage-api-stand-in.ts';
import { batchPutItems, type Item } from '../../functions/state/batch-io.ts';
import { OpenIncidentsIndex } from '../../functions/state/open-incidents-index.ts';
import { RunStateStore } from '../../functions/state/run-state-store.ts';
import { toItem } from '../../functions/state/series-state-store.ts';
import { DynamoDbNameCache } from '../../functions/usage-api/dynamodb-name-cache.ts';
import { OpenAiNameDirectory } from '../../functions/usage-api/name-directory.ts';
import { primeStates } from './run-prime.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = path.join(repo, 'node_modules/.bin/node');
const childScript = path.join(repo, 'test/bench/run-child.ts');
const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '22000' },
    seed: { type: 'string', default: '7' },
    repeats: { type: 'string', default: '5' },
    'first-run-keys': { type: 'string', default: '2000' },
    'heap-mb': { type: 'string', default: '896' },
    'skip-steady': { type: 'boolean', default: false },
    'skip-first-run': { type: 'boolean', default: false },
    /** Writes a V8 CPU profile of every real-run child into this directory (slows them a little). */
    profile: { type: 'string' },
  },
});
const seed = Number(args.seed);
const heapMb = Number(args['heap-mb']);
const TABLE = 'bench-run';
const LAMBDA_SECONDS = 300;
const LAMBDA_MB = 1024;
/** The handler's own margin before Lambda's timeout (functions/handler.ts). */
const HANDLER_MARGIN_SECONDS = 20;
const config = parseConfig({});
const graceSeconds = config.schedule.graceMinutes * 60;

interface ChildResult {
  mode: string;
  wallMs: number;
  maxRssKb: number;
  inProcessMs: number;
  phasesMs: Record<string, number>;
  [field: string]: unknown;
}

/** Runs one child process; its wall time is spawn to exit, as the process is the unit measured. */
function runChild(childArgs: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const profile =
      args.profile && childArgs[0] === 'real' ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [];
    const child = spawn(node, [`--max-old-space-size=${heapMb}`, ...profile, childScript, ...childArgs], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - t0;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`child ${childArgs[0]} exited ${code}: ${err.slice(-2000)}`));
        return;
      }
      resolve({ ...(JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult), wallMs });
    });
  });
}

/** dynalite in its own process (run-dynalite.ts); stop() closes its stdin and waits for it to exit. */
function startDynaliteProcess(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [path.join(repo, 'test/bench/run-dynalite.ts')], {
      cwd: repo,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const endpoint = /^DYNALITE (\S+)$/m.exec(out)?.[1];
      if (!endpoint) return;
      child.stdout.off('data', onData);
      resolve({
        endpoint,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.stdin.end();
          }),
      });
    };
    child.stdout.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite process exited ${code}`)));
  });
}

/** The stand-in renders an hour from the simulation on every page; computing it once keeps its cost out. */
function withMemoizedHours(org: SimulatedOrg): SimulatedOrg {
  const cache = new Map<number, ReturnType<SimulatedOrg['usageDetailAt']>>();
  return {
    ...org,
    usageDetailAt: (hour) => {
      let rows = cache.get(hour);
      if (!rows) {
        rows = org.usageDetailAt(hour);
        cache.set(hour, rows);
      }
      return rows;
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mb = (kb: number): number => kb / 1024;
const fmt = (x: number, digits = 0): string => x.toFixed(digits);
const iso = (s: number): string => new Date(s * 1000).toISOString().replace(':00.000Z', 'Z');

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers ~1 byte per 2 digits). */
function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
    else if (value.B !== undefined) bytes += value.B.length;
    else bytes += 1;
  }
  return bytes;
}

async function scanStateItems(client: DynamoDBClient): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await client.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: 'sk = :s',
        ExpressionAttributeValues: { ':s': { S: 'state' } },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

async function steadyState(): Promise<string[]> {
  const keys = Number(args.keys);
  const repeats = Number(args.repeats);
  const lines: string[] = [];
  let t = performance.now();
  const org = simulateOrganization({ seed, keys, weeks: 2, incidents: false });
  // The busiest hour of the second week's Tuesday (a working day everywhere but the Pacific evening).
  const tuesday = org.start + 8 * 86_400;
  let measured = tuesday;
  let best = { series: 0, keys: 0, rows: 0 };
  for (let h = 0; h < 24; h++) {
    const rows = org.usageAt(tuesday + h * HOUR_SECONDS);
    const series = new Set(rows.map((r) => `${r.projectId}#${r.apiKeyId}`)).size;
    if (series > best.series) {
      measured = tuesday + h * HOUR_SECONDS;
      best = {
        series,
        keys: new Set(rows.flatMap((r) => (r.apiKeyId ? [r.apiKeyId] : []))).size,
        rows: rows.length,
      };
    }
  }
  console.log(
    `org: ${keys} keys, ${org.projects.length} projects, seed ${seed}; measured hour ${iso(measured)}: ` +
      `${best.keys} keys with usage (${best.series} series, ${best.rows} rows)`,
  );

  const standIn = await startUsageApiStandIn({ org: withMemoizedHours(org) });
  try {
    // Priming: the real detector over the week before the measured hour, as a first run leaves it.
    t = performance.now();
    const primed = primeStates(org.usageAt, config, {
      from: measured - 168 * HOUR_SECONDS,
      to: measured,
      alertsFrom: measured - HOUR_SECONDS,
    });
    console.log(
      `primed ${primed.series.length} series over 168 hours in memory (${fmt((performance.now() - t) / 1000, 1)} s); ` +
        `open incidents ${primed.openIncidents.length}`,
    );
    // Kept as encoded items only: a small heap here keeps the stand-in's answers free of long GC pauses.
    const primedItems = primed.series.map(({ id, state }) => toItem(id, state));
    primed.series.length = 0;
    // A steady deployment has its names cached (a day): listed once here, as the first run would.
    const namesItem = await withDatabase(async (client) => {
      const names = new OpenAiNameDirectory({
        apiBase: standIn.baseUrl,
        adminKey: STAND_IN_ADMIN_KEY,
        cache: new DynamoDbNameCache({ client, tableName: TABLE }),
      });
      const directory = await names.directory({ atMs: Date.now() + 600_000 });
      await names.close();
      console.log(
        `name cache: ${Object.keys(directory.apiKeys).length} keys named${directory.truncated ? ' (truncated to fit one item)' : ''}`,
      );
      const { Item } = await client.send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'names' }, sk: { S: 'directory' } } }),
      );
      if (!Item) throw new Error('the name cache was not written');
      return Item;
    });

    /** Each timed run gets a fresh database holding exactly the primed state, so no run sees another's. */
    const timedRun = (mode: 'real' | 'floor', inspect?: (client: DynamoDBClient) => Promise<void>) =>
      withDatabase(async (client, endpoint) => {
        await batchPutItems(client, TABLE, [...primedItems, namesItem]);
        await new OpenIncidentsIndex(client, TABLE).write(primed.openIncidents);
        await new RunStateStore(client, TABLE).advanceWatermark(undefined, measured - HOUR_SECONDS);
        // Let the database settle after the burst of writes, so each timed run starts alike.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const common = ['--endpoint', endpoint, '--table', TABLE, '--api-base', standIn.baseUrl];
        const result = await runChild(
          mode === 'real'
            ? ['real', ...common, '--now', String(measured + HOUR_SECONDS + graceSeconds + 60)]
            : ['floor', ...common, '--start', String(measured)],
        );
        if (mode === 'real' && (result.outcome !== 'completed' || result.hoursEvaluated !== 1)) {
          throw new Error(
            `the real run did not evaluate exactly the measured hour: ${JSON.stringify(result)}`,
          );
        }
        await inspect?.(client);
        return result;
      });

    const pagesBefore = standIn.requests.length;
    const warmFloor = await timedRun('floor');
    const servedPages = standIn.requests.length - pagesBefore;
    await timedRun('real');
    const reals: ChildResult[] = [];
    const floors: ChildResult[] = [];
    let stateItems: Item[] = [];
    for (let i = 0; i < repeats; i++) {
      reals.push(
        await timedRun('real', async (client) => {
          if (i === repeats - 1) stateItems = await scanStateItems(client);
        }),
      );
      floors.push(await timedRun('floor'));
    }
    const sizes = stateItems.map(itemBytes);
    const encoded = stateItems.map((item) => item.s?.S?.length ?? 0);

    const realMs = median(reals.map((r) => r.wallMs));
    const floorMs = median(floors.map((r) => r.wallMs));
    const ratio = realMs / floorMs;
    const row = (name: string, runs: ChildResult[]) =>
      `${name.padEnd(6)} ${runs.map((r) => fmt(r.wallMs).padStart(6)).join(' ')}  median ${fmt(median(runs.map((r) => r.wallMs))).padStart(6)} ms  ` +
      `peak RSS ${fmt(Math.max(...runs.map((r) => mb(r.maxRssKb)))).padStart(4)} MB  ` +
      `phases (median) ${JSON.stringify(medianPhases(runs))}`;
    const last = reals[reals.length - 1];
    lines.push(
      '',
      `== Steady-state hourly run: ${keys}-key org, ${best.keys} keys with usage in ${iso(measured)} ==`,
      `pages per run: ${servedPages}; series in the hour (floor reads+writes one item each): ${String(warmFloor.series)}; ` +
        `series evaluated by the real run: ${String(last?.seriesEvaluated)}, alerts ${String(last?.alerts)}`,
      `runs (wall ms, whole process, ${repeats} alternating after one warm-up each, fresh database each):`,
      row('real', reals),
      row('floor', floors),
      `ratio real/floor (medians): ${fmt(ratio, 2)}  -> ${ratio <= 2 ? 'MET' : 'NOT MET'} (target <= 2)`,
      `state item size: ${stateItems.length} items, avg ${fmt(sizes.reduce((a, b) => a + b, 0) / sizes.length, 1)} B, ` +
        `max ${Math.max(...sizes)} B (encoded state string avg ${fmt(encoded.reduce((a, b) => a + b, 0) / encoded.length, 1)}, ` +
        `max ${Math.max(...encoded)} chars)`,
    );
  } finally {
    await standIn.stop();
  }
  return lines;
}

/** A fresh dynalite process with the state table, for the length of `work`. */
async function withDatabase<T>(work: (client: DynamoDBClient, endpoint: string) => Promise<T>): Promise<T> {
  const db = await startDynaliteProcess();
  const client = localDynamoDbClient(db.endpoint);
  try {
    await ensureStateTable(client, TABLE);
    return await work(client, db.endpoint);
  } finally {
    client.destroy();
    await db.stop();
  }
}

function medianPhases(runs: ChildResult[]): Record<string, number> {
  const names = new Set(runs.flatMap((r) => Object.keys(r.phasesMs)));
  return Object.fromEntries(
    [...names].map((n) => [n, Math.round(median(runs.map((r) => r.phasesMs[n] ?? 0)))]),
  );
}

async function firstRun(): Promise<string[]> {
  const keys = Number(args['first-run-keys']);
  const org = simulateOrganization({ seed, keys, weeks: 2, incidents: false });
  const db = await startDynaliteProcess();
  const client = localDynamoDbClient(db.endpoint);
  const standIn = await startUsageApiStandIn({ org: withMemoizedHours(org) });
  try {
    await ensureStateTable(client, TABLE);
    const end = org.start + org.hours * HOUR_SECONDS;
    const result = await runChild([
      'real',
      '--endpoint',
      db.endpoint,
      '--table',
      TABLE,
      '--api-base',
      standIn.baseUrl,
      '--now',
      String(end + graceSeconds + 60),
      '--deadline-seconds',
      String(LAMBDA_SECONDS - HANDLER_MARGIN_SECONDS),
    ]);
    const seconds = result.wallMs / 1000;
    const peakMb = mb(result.maxRssKb);
    const fits = result.outcome === 'completed' && seconds <= LAMBDA_SECONDS && peakMb <= LAMBDA_MB;
    return [
      '',
      `== First run: ${keys}-key org, ${iso(end - 168 * HOUR_SECONDS)} .. ${iso(end)} (168 hours, priming) ==`,
      `outcome ${String(result.outcome)}, hours ${String(result.hoursEvaluated)} (left ${String(result.hoursLeftPending)}), ` +
        `series-hours ${String(result.seriesEvaluated)}, usage pages ${standIn.requests.filter((r) => r.path.includes('usage')).length}`,
      `wall ${fmt(seconds, 1)} s, peak RSS ${fmt(peakMb)} MB (heap limit --max-old-space-size=${heapMb})  phases ${JSON.stringify(result.phasesMs)}`,
      `fits one Lambda run (<= ${LAMBDA_SECONDS} s, <= ${LAMBDA_MB} MB): ${fits ? 'MET' : 'NOT MET'}`,
    ];
  } finally {
    client.destroy();
    await standIn.stop();
    await db.stop();
  }
}

const report: string[] = [];
if (!args['skip-steady']) report.push(...(await steadyState()));
if (!args['skip-first-run']) report.push(...(await firstRun()));
console.log(report.join('\n'));
