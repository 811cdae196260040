// The timeline every fault scenario replays: a small simulated org with the planted runaway key, primed up
// to hour K0 - 1, and the key running away in hours K0 + 3 and K0 + 4. A scenario takes a copy of the
// primed table, injects its fault around the runs that would evaluate the runaway hour, and checks that
// once the fault clears each hour was evaluated exactly once and the spike went out once per channel.
import { expect } from 'vitest';
import { HOUR_SECONDS } from '../../../functions/core/usage.ts';
import { simulateOrganization } from '../../../functions/local/simulated-org.ts';
import {
  PLANTED_KEY_ID,
  PLANTED_KEY_NAME,
  withPlantedSeries,
} from '../../integration/support/planted-usage.ts';
import { type FaultRun, type FaultServices, logLinesMatching, type OutboxRow } from './fault-services.ts';
import { secretsIn } from './no-secrets.ts';

export { PLANTED_KEY_ID, PLANTED_KEY_NAME } from '../../integration/support/planted-usage.ts';

const baseOrg = simulateOrganization({ seed: 11, keys: 6, weeks: 3, incidents: false });
/** Hour k of the simulation (unix s). */
export const hour = (k: number): number => baseOrg.start + k * HOUR_SECONDS;
/** A scheduled run's clock in hour k: a quarter past, so hour k - 1 is closed and past the grace. */
export const runAt = (k: number): number => hour(k) + 15 * 60;
/** The priming run's hour: a week and a day into the simulation, so priming sees a full week. */
export const K0 = 8 * 24;
export const SPIKE_HOUR = hour(K0 + 3);
export const faultOrg = withPlantedSeries(baseOrg, {
  isSpike: (h) => h === hour(K0 + 3) || h === hour(K0 + 4),
});

export const PRIMED_TABLE = 'primed';

/** Primes the shared table once per file: a week of history up to hour K0 - 1. */
export async function primeTemplate(services: FaultServices): Promise<void> {
  await services.newTable(PRIMED_TABLE);
  const primed = await services.run({ table: PRIMED_TABLE, now: runAt(K0) });
  if (primed.report.outcome !== 'completed' || (await services.watermark(PRIMED_TABLE)) !== hour(K0 - 1)) {
    throw new Error(`priming failed: ${primed.report.outcome} ${primed.report.error?.message ?? ''}`);
  }
}

/** What reached Slack and email about the planted key since a mark (see `mark`). */
export interface PlantedMessages {
  slack: string[];
  email: string[];
}

export interface Mark {
  slack: number;
  email: number;
}

export const mark = (services: FaultServices): Mark => ({
  slack: services.slack.requests.length,
  email: services.sns.published.length,
});

/** Headlines delivered about the planted key since `from`: Slack `text`s and email subjects. */
export function plantedMessagesSince(services: FaultServices, from: Mark): PlantedMessages {
  return {
    slack: services.slack.requests
      .slice(from.slack)
      .filter((r) => r.status >= 200 && r.status < 300 && JSON.stringify(r.json).includes(PLANTED_KEY_NAME))
      .map((r) => String((r.json as { text?: unknown }).text ?? '')),
    email: services.sns.published
      .slice(from.email)
      .filter((m) => (m.message ?? '').includes(PLANTED_KEY_NAME))
      .map((m) => m.subject ?? ''),
  };
}

/** The planted key's outbox entries (alerts recorded about it). */
export async function plantedOutbox(services: FaultServices, table: string): Promise<OutboxRow[]> {
  return (await services.outbox(table)).filter((row) => row.alert.apiKeyId === PLANTED_KEY_ID);
}

/** The hours the runs committed, in order: each hour once means no hour lost and none evaluated twice. */
export function committedAcross(runs: ReadonlyArray<{ committed: number[] }>): number[] {
  return runs.flatMap((r) => r.committed);
}

/**
 * No alert sent twice, none lost: the runaway key's spike was recorded once, every alert recorded about
 * the key was delivered on both channels, and each channel got exactly one message per alert.
 */
export async function expectEachPlantedAlertOnce(
  services: FaultServices,
  table: string,
  since: Mark,
): Promise<PlantedMessages> {
  const entries = await plantedOutbox(services, table);
  expect(entries.filter((row) => row.alert.type === 'spike')).toMatchObject([
    { alert: { bucketStart: SPIKE_HOUR } },
  ]);
  for (const row of entries) expect(row).toMatchObject({ slackStatus: 'sent', emailStatus: 'sent' });
  const sent = plantedMessagesSince(services, since);
  expect(sent.slack).toHaveLength(entries.length);
  expect(sent.email).toHaveLength(entries.length);
  expect(sent.slack.filter((text) => !/resolved/i.test(text))).toHaveLength(1);
  expect(sent.email.filter((subject) => !/resolved/i.test(subject))).toHaveLength(1);
  return sent;
}

/** The run's error log line, which must name the problem and carry no secret. */
export function stopLine(run: FaultRun): string {
  const lines = logLinesMatching(run.logs, 'error', /Evaluation stopped/);
  expect(lines).toHaveLength(1);
  const text = JSON.stringify(lines[0]);
  expect(secretsIn(text)).toEqual([]);
  return text;
}
