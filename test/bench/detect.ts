// Detection benchmark (not a test): replays usage exactly as `usage-sentinel backtest` does
// (replayHistory over a UsageSource, the first week priming baselines, the same HourEvaluator as the
// Lambda on an embedded DynamoDB from an empty state), writes the alert records as JSON Lines, scores
// them with ../shared/bench/score.mjs and says per target whether it is met. Organizations come from the
// project's simulator (--seeds), from an independently written generator (--independent-seeds,
// independent-org.ts) and from one written blind, from ../shared/bench/README.md alone (--blind-seeds,
// blind-org.ts), each judged against the same targets and reported apart; an empty list skips one.
//   node test/bench/detect.ts [--realworld-only] [--sim-only] [--seeds 1,2,3] [--independent-seeds 11,...,16]
//                             [--blind-seeds 1,2,3] [--out DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { toAlertRecord } from '../../functions/core/alert.ts';
import { replayHistory } from '../../functions/core/replay-history.ts';
import { HOUR_SECONDS, type UsageHour, type UsageSource } from '../../functions/core/usage.ts';
import { HourEvaluator } from '../../functions/detection/hour-evaluator.ts';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { UsagePagesFile } from '../../functions/usage-api/usage-pages-file.ts';
import { independentOrganization } from './independent-org.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repo, '../shared/bench');
const node = path.join(repo, 'node_modules/.bin/node');
const { values: args } = parseArgs({
  options: {
    'realworld-only': { type: 'boolean', default: false },
    'sim-only': { type: 'boolean', default: false },
    seeds: { type: 'string', default: '1,2,3' },
    'independent-seeds': { type: 'string', default: '11,12,13,14,15,16' },
    'blind-seeds': { type: 'string', default: '1,2,3' },
    out: { type: 'string', default: '/tmp/usage-sentinel-bench' },
  },
});
mkdirSync(args.out, { recursive: true });

interface Score {
  incidents: number;
  caught: number;
  recall: number;
  false_alerts: number;
  false_per_100_series_weeks: number;
  precision: number;
  f1: number;
  median_delay_h: number | null;
  by_kind: Record<string, string>;
  missed: string[];
  false_examples: string[];
}

async function replay(
  name: string,
  source: UsageSource,
  range: { start: number; end: number },
): Promise<{ file: string; seconds: number }> {
  const db = await startEmbeddedDynamoDb();
  const client = localDynamoDbClient(db.endpoint);
  try {
    await ensureStateTable(client, 'bench');
    await waitUntilTableExists(
      { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
      { TableName: 'bench' },
    );
    const evaluator = new HourEvaluator({ client, tableName: 'bench', config: parseConfig({}) });
    const t0 = performance.now();
    const { alerts } = await replayHistory({
      source,
      evaluator,
      ...range,
      deadline: { atMs: Number.POSITIVE_INFINITY },
    });
    const lines = alerts.map((a) => JSON.stringify(toAlertRecord(a)));
    const file = path.join(args.out, `${name}.alerts.jsonl`);
    writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
    return { file, seconds: (performance.now() - t0) / 1000 };
  } finally {
    client.destroy();
    await db.stop();
  }
}

function score(labels: string, alerts: string): Score {
  const res = spawnSync(
    node,
    [path.join(shared, 'score.mjs'), '--labels', labels, '--alerts', alerts, '--json'],
    {
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) throw new Error(`score.mjs failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Score;
}

function report(name: string, s: Score, seconds: number): void {
  console.log(
    `${name}: F1 ${s.f1}  recall ${s.recall} (${s.caught}/${s.incidents})  precision ${s.precision}  ` +
      `false ${s.false_alerts} (${s.false_per_100_series_weeks}/100 series-weeks)  median delay ${s.median_delay_h} h  ` +
      `[${seconds.toFixed(1)} s]`,
  );
  console.log(`  by kind: ${JSON.stringify(s.by_kind)}`);
  if (s.missed.length) console.log(`  missed e.g.: ${s.missed.slice(0, 5).join('; ')}`);
  if (s.false_examples.length) console.log(`  false e.g.: ${s.false_examples.slice(0, 5).join('; ')}`);
}

/** Replays and scores a folder of usage pages and labels, over the range backtest --input takes. */
async function pagesAndLabels(dir: string, name: string, title: string): Promise<Score> {
  const pages = new UsagePagesFile(path.join(dir, 'usage-pages.jsonl'));
  const { file, seconds } = await replay(name, pages, { start: pages.start, end: pages.end });
  const s = score(path.join(dir, 'labels.json'), file);
  report(title, s, seconds);
  return s;
}

const realWorld = (): Promise<Score> =>
  pagesAndLabels(path.join(shared, 'realworld'), 'realworld', 'real-world (26 series)');

interface SimulatedOrg {
  start: number;
  hours: number;
  usageAt(hourStart: number): UsageHour['rows'];
  labels: unknown;
}

/** The simulator's hours as a UsageSource: what the usage API stand-in would serve, read in ranges. */
function simulatedSource(org: SimulatedOrg): UsageSource {
  return {
    async readHours(range) {
      const out: UsageHour[] = [];
      for (let start = range.start; start < range.end; start += HOUR_SECONDS)
        out.push({ start, rows: org.usageAt(start) });
      return out;
    },
  };
}

type GenerateOrg = (o: { seed: number; keys: number; weeks: number }) => SimulatedOrg;

/** "1,2,3" -> [1, 2, 3]; "" -> []. */
const seedList = (list: string): number[] =>
  list
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(Number);

/** Replays and scores a generator's organization for each seed (150 keys, 5 weeks each). */
async function generated(
  generate: GenerateOrg,
  seeds: number[],
  name: { file: string; title: string },
): Promise<Score[]> {
  const scores: Score[] = [];
  for (const seed of seeds) {
    const org = generate({ seed, keys: 150, weeks: 5 });
    const labelsFile = path.join(args.out, `${name.file}-${seed}.labels.json`);
    writeFileSync(labelsFile, JSON.stringify(org.labels));
    const { file, seconds } = await replay(`${name.file}-${seed}`, simulatedSource(org), {
      start: org.start,
      end: org.start + org.hours * HOUR_SECONDS,
    });
    const s = score(labelsFile, file);
    report(`${name.title} seed ${seed} (150 keys, 5 weeks)`, s, seconds);
    scores.push(s);
  }
  return scores;
}

async function simulated(): Promise<Score[]> {
  const seeds = seedList(args.seeds);
  if (!seeds.length) return [];
  const modulePath = path.join(repo, 'functions/local/simulated-org.ts');
  if (!existsSync(modulePath)) {
    console.log('simulated organizations: functions/local/simulated-org.ts not there yet, skipped');
    return [];
  }
  const sim = (await import(modulePath)) as { simulateOrganization: GenerateOrg };
  return generated(sim.simulateOrganization, seeds, { file: 'sim', title: 'simulated org' });
}

const independent = (): Promise<Score[]> =>
  generated(independentOrganization, seedList(args['independent-seeds']), {
    file: 'indep',
    title: 'independent generator',
  });

/** The blind generator writes its organizations as files: pages, labels and what it drew (truth.json). */
async function blind(): Promise<Score[]> {
  const scores: Score[] = [];
  for (const seed of seedList(args['blind-seeds'])) {
    const dir = path.join(args.out, `blind-${seed}`);
    const res = spawnSync(
      node,
      [path.join(repo, 'test/bench/blind-org.ts'), '--seed', String(seed), '--out', dir],
      { encoding: 'utf8' },
    );
    if (res.status !== 0) throw new Error(`blind-org.ts failed: ${res.stderr}`);
    scores.push(
      await pagesAndLabels(dir, `blind-${seed}`, `blind generator seed ${seed} (about 150 keys, 5 weeks)`),
    );
  }
  return scores;
}

/** The project's targets (issue "Baselines and spike detection that people trust"). */
const BEST_SIMPLE_F1 = 0.4;
const verdict = (met: boolean): string => (met ? 'met' : 'NOT MET');

const real = args['sim-only'] ? undefined : await realWorld();
const sims = args['realworld-only'] ? [] : await simulated();
const indeps = args['realworld-only'] ? [] : await independent();
const blinds = args['realworld-only'] ? [] : await blind();
console.log('\ntargets:');
if (real) {
  const f1Target = 1.25 * BEST_SIMPLE_F1;
  console.log(
    `  real-world F1 >= ${f1Target} (1.25 x best simple detector): ${real.f1} ${verdict(real.f1 >= f1Target)}`,
  );
  console.log(
    `  real-world false alerts <= 20 per 100 series-weeks: ${real.false_per_100_series_weeks} ${verdict(real.false_per_100_series_weeks <= 20)}`,
  );
}
/** The targets for generated organizations, judged on the worst seed of one generator. */
function generatedTargets(name: string, scores: Score[]): void {
  if (!scores.length) return;
  const worst = (f: (s: Score) => number, pick: (a: number, b: number) => number) =>
    scores.map(f).reduce((a, b) => pick(a, b));
  const recall = worst((s) => s.recall, Math.min);
  const delay = worst((s) => s.median_delay_h ?? Number.POSITIVE_INFINITY, Math.max);
  const falses = worst((s) => s.false_per_100_series_weeks, Math.max);
  const f1 = worst((s) => s.f1, Math.min);
  console.log(`  ${name} recall >= 0.95 (worst seed): ${recall} ${verdict(recall >= 0.95)}`);
  console.log(`  ${name} median delay 0 h (worst seed): ${delay} ${verdict(delay === 0)}`);
  console.log(
    `  ${name} false alerts <= 1.5 per 100 series-weeks (worst seed): ${falses} ${verdict(falses <= 1.5)}`,
  );
  console.log(`  ${name} F1 >= 0.9 (worst seed): ${f1} ${verdict(f1 >= 0.9)}`);
  if (scores.length < 2) return;
  // One seed is a few dozen incidents: all seeds together say more of the general case than the worst.
  const caught = scores.reduce((n, s) => n + s.caught, 0);
  const incidents = scores.reduce((n, s) => n + s.incidents, 0);
  const meanFalse = scores.reduce((n, s) => n + s.false_per_100_series_weeks, 0) / scores.length;
  console.log(
    `  ${name}, all ${scores.length} seeds together: recall ${(caught / incidents).toFixed(3)} (${caught}/${incidents}), ` +
      `false alerts ${meanFalse.toFixed(2)} per 100 series-weeks (mean)`,
  );
  console.log(`    by kind: ${pooledByKind(scores)}`);
}

/** Caught / labelled per kind of incident over all seeds: which kinds the misses are. */
function pooledByKind(scores: Score[]): string {
  const kinds = new Map<string, { caught: number; incidents: number }>();
  for (const s of scores) {
    for (const [kind, text] of Object.entries(s.by_kind)) {
      const [caught = 0, incidents = 0] = text.split('/').map(Number);
      const k = kinds.get(kind) ?? { caught: 0, incidents: 0 };
      kinds.set(kind, { caught: k.caught + caught, incidents: k.incidents + incidents });
    }
  }
  return [...kinds]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => `${kind} ${k.caught}/${k.incidents}`)
    .join(', ');
}
generatedTargets('simulated', sims);
generatedTargets('independent generator', indeps);
generatedTargets('blind generator', blinds);
