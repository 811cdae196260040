// The demo as a new user runs it: a child process, no account, no network but loopback. Its Slack
// messages also go to a local receiver, so each can be checked against Block Kit's limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackReceiver, startSlackReceiver } from '../../functions/local/slack-receiver.ts';
import { checkBlockKitLimits } from '../../functions/notify/slack-message.ts';
import { bareEnv, REPO_ROOT, runCli } from '../support/run-node.ts';

const runDemo = (args: string[]) =>
  runCli(['demo', ...args], { cwd: REPO_ROOT, env: bareEnv(process.env.HOME) });

describe('usage-sentinel demo', () => {
  let slack: SlackReceiver;
  let result: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    slack = await startSlackReceiver();
    result = await runDemo(['--slack-webhook', slack.url]);
  });
  afterAll(() => slack.close());

  it('runs on its own and exits 0', () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
  });

  it('catches both planted incidents in their first hour and nothing else', () => {
    expect(result.stdout).toMatch(/runaway loop on .+: caught in hour 1 of the incident/);
    expect(result.stdout).toMatch(/leaked key on .+: caught in hour 1 of the incident/);
    expect(result.stdout).toContain('other series that alerted: none');
  });

  it('shows each alert as its Slack message and its email, recoveries included', () => {
    expect(result.stdout).toMatch(/Token spike: .+ at [\d.]+× normal/);
    expect(result.stdout).toMatch(/Subject: \[usage-sentinel\] Spike/);
    expect(result.stdout).toMatch(/Resolved: .+ back to normal after \d+ h/);
    expect(result.stdout).toContain('https://platform.openai.com/api-keys');
    // Progress: one line per scheduled run, the first one priming a week.
    expect(result.stderr).toMatch(/run at 2026-11-09 00:10 UTC: 168 hour\(s\)/);
  });

  it('posts every message within Block Kit limits, each with a fallback text', () => {
    const posted = slack.delivered();
    expect(posted.length).toBeGreaterThanOrEqual(4);
    expect(result.stdout).toContain(`${posted.length} Slack message(s)`);
    for (const payload of posted) {
      expect(checkBlockKitLimits(payload)).toEqual([]);
      expect((payload as { text?: string }).text).toBeTruthy();
    }
  });

  it('says an incident after the last hour replayed was not reached, and how many hours reach it', async () => {
    const short = await runDemo(['--hours', '15']);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/runaway loop on .+: caught in hour 1 of the incident/);
    expect(short.stdout).toMatch(
      /leaked key on .+: not reached: it starts at 2026-11-10 01:00 UTC, after the last hour replayed \(--hours 26 or more reaches it\)/,
    );
    expect(short.stdout).not.toContain('missed');
  });
});
