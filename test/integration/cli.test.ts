// The command line as a user runs it: `node bin/usage-sentinel.ts ...` in a child process, against the
// usage API stand-in and a local Slack receiver, with the state in an embedded store under a temp folder.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_SECONDS } from '../../functions/core/usage.ts';
import { simulateOrganization } from '../../functions/local/simulated-org.ts';
import {
  type SlackReceiver,
  startSlackReceiver,
  WEBHOOK_SECRET_PATH,
} from '../../functions/local/slack-receiver.ts';
import {
  STAND_IN_ADMIN_KEY,
  startUsageApiStandIn,
  type UsageApiStandIn,
} from '../../functions/local/usage-api-stand-in.ts';
import { bareEnv, type NodeOutput, runCli } from '../support/run-node.ts';
import { PLANTED_KEY_ID, PLANTED_KEY_NAME, withPlantedSeries } from './support/planted-usage.ts';

const COMMANDS = ['demo', 'run', 'backtest'];

const baseOrg = simulateOrganization({ seed: 23, keys: 10, weeks: 3, incidents: false });
const hour = (k: number): number => baseOrg.start + k * HOUR_SECONDS;
const K0 = 8 * 24;
/** The planted key runs away in hour K0 + 1: the second run below sees it. */
const SPIKE_HOUR = hour(K0 + 1);
const org = withPlantedSeries(baseOrg, { isSpike: (h) => h === SPIKE_HOUR });

type CliOutput = NodeOutput;

/** Only what is given: no admin key or AWS settings leak in from the test's own environment. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<CliOutput> =>
  runCli(args, { cwd: workDir, env: bareEnv(workDir, env) });

let workDir: string;
let api: UsageApiStandIn;
let slack: SlackReceiver;
let clock = hour(K0);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'usage-sentinel-cli-'));
  api = await startUsageApiStandIn({ org, now: () => clock });
  slack = await startSlackReceiver();
});

afterAll(async () => {
  await Promise.all([api?.stop(), slack?.close()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Everything the CLI printed, for the checks that secrets never appear. */
const printed: string[] = [];
const keep = (output: CliOutput): CliOutput => {
  printed.push(output.stdout, output.stderr);
  return output;
};

describe('help', () => {
  // Independent processes: started together, checked one by one.
  let helps: Map<string, CliOutput>;
  beforeAll(async () => {
    const runs = [['--help'], ...COMMANDS.map((name) => [name, '--help'])];
    const outputs = await Promise.all(runs.map((args) => cli(args)));
    helps = new Map(runs.map((args, i) => [args.join(' '), keep(outputs[i] as CliOutput)]));
  });

  it('lists the commands and exits 0', () => {
    const { code, stdout } = helps.get('--help') as CliOutput;
    expect(code).toBe(0);
    for (const name of COMMANDS) expect(stdout).toMatch(new RegExp(`^\\s+${name}\\s`, 'm'));
  });

  it.each(COMMANDS)('%s --help exits 0 and shows its usage', (name) => {
    const { code, stdout } = helps.get(`${name} --help`) as CliOutput;
    expect(code).toBe(0);
    expect(stdout).toContain(`usage-sentinel ${name}`);
    expect(stdout).toContain('--help');
  });
});

describe('run', () => {
  const alertsOut = () => join(workDir, 'alerts.jsonl');
  const stateDir = () => join(workDir, 'state');
  const runArgs = (now: number) => [
    'run',
    '--now',
    String(now),
    '--api-base',
    api.baseUrl,
    '--state-dir',
    stateDir(),
    '--alerts-out',
    alertsOut(),
    '--slack-webhook',
    slack.url,
  ];
  const usageReads = (from: number) =>
    api.requests.slice(from).filter((r) => r.path === '/organization/usage/completions' && !r.query.page);

  it('primes the embedded store on the first run and exits 0', async () => {
    clock = hour(K0) + 15 * 60;
    const before = api.requests.length;
    const { code, stderr } = keep(await cli(runArgs(clock), { OPENAI_ADMIN_KEY: STAND_IN_ADMIN_KEY }));
    expect(stderr).not.toMatch(/^error/im);
    expect(code).toBe(0);
    const reads = usageReads(before);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]?.auth).toBe('admin');
    expect(Math.min(...reads.map((r) => Number(r.query.start_time?.[0])))).toBe(hour(K0 - 168));
    expect(Math.max(...reads.map((r) => Number(r.query.end_time?.[0])))).toBe(hour(K0));
    expect(existsSync(alertsOut())).toBe(true);
  });

  it('keeps state between runs: a later run reads only the new hours and writes its own alerts', async () => {
    clock = hour(K0 + 3) + 15 * 60;
    const before = api.requests.length;
    const { code } = keep(await cli(runArgs(clock), { OPENAI_ADMIN_KEY: STAND_IN_ADMIN_KEY }));
    expect(code).toBe(0);
    const reads = usageReads(before);
    expect(reads.map((r) => [Number(r.query.start_time?.[0]), Number(r.query.end_time?.[0])])).toEqual([
      [hour(K0), hour(K0 + 3)],
    ]);

    const records = readFileSync(alertsOut(), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // This run's alerts only, each in the contract's shape.
    for (const record of records) {
      expect(record).toMatchObject({
        type: expect.stringMatching(/^(spike|new_key|resolved|reminder)$/),
        project_id: expect.any(String),
        bucket_start: expect.any(Number),
        metric: expect.any(String),
        observed: expect.any(Number),
        expected: expect.any(Number),
        severity: expect.any(String),
      });
      expect(record).toHaveProperty('api_key_id');
      expect(record.bucket_start as number).toBeGreaterThanOrEqual(hour(K0));
    }
    const planted = records.filter((r) => r.api_key_id === PLANTED_KEY_ID);
    expect(planted).toMatchObject([{ type: 'spike', bucket_start: SPIKE_HOUR }]);
    const posted = slack.delivered().filter((json) => JSON.stringify(json).includes(PLANTED_KEY_NAME));
    expect(posted).toHaveLength(1);
  });

  it('a third run at the same time evaluates nothing and posts nothing', async () => {
    const before = api.requests.length;
    const postsBefore = slack.requests.length;
    const { code } = keep(await cli(runArgs(clock), { OPENAI_ADMIN_KEY: STAND_IN_ADMIN_KEY }));
    expect(code).toBe(0);
    expect(usageReads(before)).toEqual([]);
    expect(slack.requests.length).toBe(postsBefore);
    expect(readFileSync(alertsOut(), 'utf8')).toBe('');
  });

  it('without OPENAI_ADMIN_KEY: one clear line and a non-zero exit', async () => {
    const before = api.requests.length;
    const { code, stderr } = keep(await cli(runArgs(clock)));
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('OPENAI_ADMIN_KEY');
    expect(api.requests.length).toBe(before);
  });

  it('--now garbage: one clear line and exit 2', async () => {
    const { code, stderr } = keep(
      await cli(['run', '--now', 'garbage', '--api-base', api.baseUrl, '--state-dir', stateDir()], {
        OPENAI_ADMIN_KEY: STAND_IN_ADMIN_KEY,
      }),
    );
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--now');
    expect(lines[0]).toContain('garbage');
  });

  it('never prints the admin key or the webhook URL', () => {
    const all = printed.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(STAND_IN_ADMIN_KEY);
    expect(all).not.toContain(WEBHOOK_SECRET_PATH.split('/').at(-1));
  });
});
