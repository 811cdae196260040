// Detection benchmark (not a test): replays usage hour by hour through the same HourEvaluator as the
// Lambda, on an embedded DynamoDB from an empty state, writes the alert records as JSON Lines and
// scores them with ../shared/bench/score.mjs.
//   node test/bench/detect.ts [--realworld-only] [--sim-only] [--seeds 1,2,3] [--out DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { toAlertRecord } from '../../functions/core/alert.ts';
import { HOUR_SECONDS, type UsageHour } from '../../functions/core/usage.ts';
import { HourEvaluator } from '../../functions/detection/hour-evaluator.ts';
import {
  ensureStateTable,
  localDynamoDbClient,
  startEmbeddedDynamoDb,
} from '../../functions/local/embedded-dynamodb.ts';
import { usagePageSchema } from '../../functions/usage-api/usage-page-schema.ts';
import { usageHoursFromPages } from '../../functions/usage-api/usage-pages-to-hours.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repo, '../shared/bench');
const { values: args } = parseArgs({
  options: {
    'realworld-only': { type: 'boolean', default: false },
    'sim-only': { type: 'boolean', default: false },
    seeds: { type: 'string', default: '1,2,3' },
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

async function replay(name: string, hours: Iterable<UsageHour>): Promise<{ file: string; seconds: number }> {
  const db = await startEmbeddedDynamoDb();
  const client = localDynamoDbClient(db.endpoint);
  try {
    await ensureStateTable(client, 'bench');
    await waitUntilTableExists(
      { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
      { TableName: 'bench' },
    );
    const evaluator = new HourEvaluator({ client, tableName: 'bench', config: parseConfig({}) });
    const lines: string[] = [];
    const t0 = performance.now();
    for (const hour of hours) {
      const { alerts } = await evaluator.evaluate(hour);
      for (const a of alerts) lines.push(JSON.stringify(toAlertRecord(a)));
    }
    const file = path.join(args.out, `${name}.alerts.jsonl`);
    writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
    return { file, seconds: (performance.now() - t0) / 1000 };
  } finally {
    client.destroy();
    await db.stop();
  }
}

function score(labels: string, alerts: string): Score {
  const node = path.join(repo, 'node_modules/.bin/node');
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

async function realWorld(): Promise<void> {
  const dir = path.join(shared, 'realworld');
  const labelsFile = path.join(dir, 'labels.json');
  const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as { start: number; hours: number };
  const pages = readFileSync(path.join(dir, 'usage-pages.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => usagePageSchema.parse(JSON.parse(line)));
  const hours = usageHoursFromPages(pages, {
    start: labels.start,
    end: labels.start + labels.hours * HOUR_SECONDS,
  });
  const { file, seconds } = await replay('realworld', hours);
  report('real-world (26 series)', score(labelsFile, file), seconds);
}

interface SimulatedOrg {
  start: number;
  hours: number;
  usageAt(hourStart: number): UsageHour['rows'];
  labels: unknown;
}

async function simulated(): Promise<void> {
  const modulePath = path.join(repo, 'functions/local/simulated-org.ts');
  if (!existsSync(modulePath)) {
    console.log('simulated organizations: functions/local/simulated-org.ts not there yet, skipped');
    return;
  }
  const sim = (await import(modulePath)) as {
    simulateOrganization(o: { seed: number; keys: number; weeks: number }): SimulatedOrg;
  };
  for (const seed of args.seeds.split(',').map(Number)) {
    const org = sim.simulateOrganization({ seed, keys: 150, weeks: 5 });
    const labelsFile = path.join(args.out, `sim-${seed}.labels.json`);
    writeFileSync(labelsFile, JSON.stringify(org.labels));
    const hours = function* () {
      for (let i = 0; i < org.hours; i++) {
        const start = org.start + i * HOUR_SECONDS;
        yield { start, rows: org.usageAt(start) };
      }
    };
    const { file, seconds } = await replay(`sim-${seed}`, hours());
    report(`simulated org seed ${seed} (150 keys, 5 weeks)`, score(labelsFile, file), seconds);
  }
}

if (!args['sim-only']) await realWorld();
if (!args['realworld-only']) await simulated();
