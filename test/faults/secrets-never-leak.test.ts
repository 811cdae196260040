// The admin key and the Slack webhook URL never leave the places they are needed: one long session through
// everything (priming, hourly runs over a spike, an API that echoes part of the key in a 401, Slack failing
// then recovering, a revoked webhook, SNS refusing, the command line in a child process with the webhook
// on a secret-looking path) captures EVERYTHING printed and EVERYTHING sent or stored, then looks for the
// key, the webhook's path and its secret token, whole or in pieces.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAlertRecord } from '../../functions/core/alert.ts';
import { LOCAL_TOPIC_ARN } from '../../functions/local/sns-stand-in.ts';
import { STAND_IN_ADMIN_KEY } from '../../functions/local/usage-api-stand-in.ts';
import { bareEnv, type NodeOutput, runCli } from '../support/run-node.ts';
import { type FaultRun, type FaultServices, startFaultServices } from './support/fault-services.ts';
import { faultOrg, K0, PLANTED_KEY_NAME, runAt } from './support/fault-timeline.ts';
import { SECRET_TEXTS, secretsIn } from './support/no-secrets.ts';

/** What the API echoes back in its 401: the key's first 26 characters, as a careless server might. */
const ECHOED = `Incorrect API key provided: ${STAND_IN_ADMIN_KEY.slice(0, 26)}******. Check ${STAND_IN_ADMIN_KEY}.`;

let services: FaultServices;
let workDir: string;
/** Everything printed: the in-process log lines, metrics, reports, the CLI's stdout and stderr. */
const printed: Array<{ source: string; text: string }> = [];
/** Everything sent or kept: Slack payloads, SNS messages and attributes, alert records, the table. */
const sent: Array<{ source: string; text: string }> = [];
const runs: FaultRun[] = [];
const cliOutputs: CliOutput[] = [];

type CliOutput = NodeOutput;

function cli(args: string[]): Promise<CliOutput> {
  return runCli(args, {
    cwd: workDir,
    env: bareEnv(workDir, {
      OPENAI_ADMIN_KEY: STAND_IN_ADMIN_KEY,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_SNS: services.sns.url,
    }),
  });
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'usage-sentinel-secrets-'));
  services = await startFaultServices(faultOrg);
  const table = await services.newTable('secrets');
  const run = async (k: number, budgetMs?: number) => {
    const r = await services.run({ table, now: runAt(k), ...(budgetMs ? { budgetMs } : {}) });
    runs.push(r);
    return r;
  };

  await run(K0); // priming
  await run(K0 + 1);
  await run(K0 + 2);
  // The API refuses the key and echoes part of it (and, worse, all of it) back.
  services.api.setFaults([{ kind: 'status', status: 401, message: ECHOED }]);
  await run(K0 + 3);
  services.api.setFaults([]);
  // The spike hour: the webhook is revoked and SNS refuses, so the alerts wait in the outbox.
  services.slack.fallback = { status: 404, body: 'no_service' };
  services.sns.failAll = { status: 403, code: 'AuthorizationError', message: 'not authorized to publish' };
  await run(K0 + 4);
  // A new webhook that answers 500 once, then takes the message; SNS works again.
  services.slack.fallback = { status: 200, body: 'ok' };
  services.slack.script = [{ status: 500, body: 'internal_error' }];
  services.sns.failAll = undefined;
  await run(K0 + 5);
  for (let k = K0 + 6; k <= K0 + 10; k++) await run(k);

  // The command line, verbose, with the webhook and the topic on the command line: a run that primes and
  // alerts on the spike, then one the API refuses with the echo.
  const stateDir = join(workDir, 'state');
  const alertsOut = join(workDir, 'alerts.jsonl');
  const cliRun = async (k: number) => {
    services.setClock(runAt(k));
    const output = await cli([
      'run',
      '--verbose',
      '--now',
      String(runAt(k)),
      '--api-base',
      services.api.baseUrl,
      '--state-dir',
      stateDir,
      '--slack-webhook',
      services.slack.url,
      '--sns-topic-arn',
      LOCAL_TOPIC_ARN,
      '--alerts-out',
      alertsOut,
    ]);
    cliOutputs.push(output);
    printed.push({ source: `cli run ${k}: stdout`, text: output.stdout });
    printed.push({ source: `cli run ${k}: stderr`, text: output.stderr });
    sent.push({ source: `cli run ${k}: alerts-out`, text: readFileSync(alertsOut, 'utf8') });
  };
  await cliRun(K0 + 4);
  services.api.setFaults([{ kind: 'status', status: 401, message: ECHOED }]);
  await cliRun(K0 + 5);
  services.api.setFaults([]);

  for (const line of services.logs)
    printed.push({ source: `log ${line.message}`, text: JSON.stringify(line) });
  for (const r of runs) {
    printed.push({ source: `metrics ${r.report.runId}`, text: r.metricsPrinted });
    printed.push({
      source: `report ${r.report.runId}`,
      text: JSON.stringify({ ...r.report, error: r.report.error?.message, stack: r.report.error?.stack }),
    });
    sent.push({
      source: `alert records ${r.report.runId}`,
      text: JSON.stringify(r.report.alerts.map(toAlertRecord)),
    });
  }
  for (const request of services.slack.requests) {
    sent.push({ source: 'slack payload', text: JSON.stringify(request.json) });
  }
  for (const message of services.sns.published)
    sent.push({ source: 'sns message', text: JSON.stringify(message) });
  const scan = await services.directClient.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  sent.push({ source: 'state table', text: JSON.stringify(scan.Items) });
}, 120_000);

afterAll(async () => {
  await services?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('everything a session printed and sent', () => {
  it('went through every path the scan is meant to cover', () => {
    const outcomes = runs.map((r) => r.report.outcome);
    expect(outcomes).toContain('failed'); // the 401
    expect(outcomes.filter((o) => o === 'completed').length).toBeGreaterThanOrEqual(10);
    const logged = JSON.stringify(services.logs);
    expect(logged).toContain('answered 401'); // the echo reached an error message, scrubbed
    expect(logged).toContain('no_service'); // the revoked webhook
    expect(logged).toContain('AuthorizationError');
    expect(services.slack.requests.some((r) => r.status === 500)).toBe(true);
    expect(services.slack.delivered().some((json) => JSON.stringify(json).includes(PLANTED_KEY_NAME))).toBe(
      true,
    );
    expect(services.sns.published.some((m) => (m.message ?? '').includes(PLANTED_KEY_NAME))).toBe(true);
    // The command line: the alerting run exits 0 and posts; the refused one exits non-zero and says why.
    expect(cliOutputs.map((o) => o.code)).toEqual([0, 1]);
    expect(cliOutputs[1]?.stdout).toMatch(/401/);
    expect(printed.length + sent.length).toBeGreaterThan(50);
  });

  it('holds neither the admin key nor the webhook URL, whole or in pieces', () => {
    // The scan would see them: the URL itself, and the echo as the API sent it.
    expect(SECRET_TEXTS.length).toBeGreaterThan(3);
    expect(secretsIn(services.slack.url)).not.toEqual([]);
    expect(secretsIn(ECHOED.slice(0, 60))).not.toEqual([]);
    const leaks = [...printed, ...sent]
      .map(({ source, text }) => ({ source, found: secretsIn(text) }))
      .filter(({ found }) => found.length > 0);
    expect(leaks).toEqual([]);
  });
});
