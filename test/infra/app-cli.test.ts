// bin/app.ts as the CDK CLI runs it: a wrong configuration stops synth with the field and the fix,
// and the real cdk.json synthesizes offline with no cdk-nag finding left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './synth-stack.ts';

const BIN = join(REPO_ROOT, 'node_modules/.bin');

/** The environment of a user's shell, offline: no AWS endpoint, version check or telemetry is reached. */
function offlineEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_ENV: _testMode, VITEST: _vitest, ...env } = process.env;
  return {
    ...env,
    PATH: `${BIN}:${env.PATH ?? ''}`,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_HOME: mkdtempSync(join(tmpdir(), 'usage-sentinel-cdk-home-')),
    ...extra,
  };
}

describe('bin/app.ts', () => {
  it('stops on a wrong configuration, naming the field, the value and what is allowed', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'usage-sentinel-bad-synth-'));
    const result = spawnSync(join(BIN, 'node'), ['bin/app.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: offlineEnv({
        CDK_CONTEXT_JSON: JSON.stringify({ usageSentinel: { schedule: { minute: 75 } } }),
        CDK_OUTDIR: outdir,
      }),
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/schedule\.minute: got 75; .*59/);
    // The message alone, no stack trace to dig it out of.
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
  });

  it('synthesizes the project cdk.json through the CDK CLI, offline, with no unacknowledged finding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'usage-sentinel-synth-'));
    const result = spawnSync(join(BIN, 'cdk'), ['synth', '-q', '--no-notices', '-o', outdir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: offlineEnv({}),
      timeout: 120_000,
    });
    expect(result.stderr).not.toContain('AwsSolutions-');
    expect(
      result.stderr,
      "node_modules/.bin/cdk cannot read aws-cdk-lib's cloud assembly: the aws-cdk CLI pin is older than the library",
    ).not.toContain('schema version mismatch');
    expect(result.status, result.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'UsageSentinel.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const schedule = Object.values(template.Resources).find((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedule?.Properties?.ScheduleExpression).toBe('cron(10 * * * ? *)');
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
