// Per-project webhooks: a project's alerts go to its team's webhook, the rest to the default one,
// through the real outbox and delivery on dynalite.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/config/parse-config.ts';
import { AlertOutbox } from '../../functions/notify/alert-outbox.ts';
import { deliverPendingAlerts } from '../../functions/notify/deliver-alerts.ts';
import { ProjectSlackRoutes } from '../../functions/notify/project-slack-routes.ts';
import type { SlackPayload } from '../../functions/notify/slack-message.ts';
import type { SlackChannel } from '../../functions/notify/slack-webhook-client.ts';
import { useLocalDynamoDb } from '../support/local-dynamodb.ts';
import { spikeAlert } from './support/alert-fixtures.ts';

class RecordingChannel implements SlackChannel {
  readonly posted: SlackPayload[] = [];
  async post(payload: SlackPayload): Promise<void> {
    this.posted.push(payload);
  }
}

const dynamo = useLocalDynamoDb();

async function deliver(routes: ProjectSlackRoutes) {
  const tableName = await dynamo.freshTable('routes');
  const config = parseConfig({});
  const outbox = new AlertOutbox({ client: dynamo.client, tableName, config });
  await outbox.record([
    spikeAlert({ id: 'a-support', projectId: 'proj_support' }),
    spikeAlert({ id: 'a-search', projectId: 'proj_search' }),
  ]);
  return deliverPendingAlerts({
    outbox,
    channels: { slack: routes },
    config,
    deadline: { atMs: Date.now() + 30_000 },
  });
}

describe('ProjectSlackRoutes', () => {
  it("sends a project's alerts to its own webhook and the others to the default", async () => {
    const team = new RecordingChannel();
    const fallback = new RecordingChannel();
    const result = await deliver(new ProjectSlackRoutes(fallback, new Map([['proj_support', team]])));
    expect(result.sent.slack).toBe(2);
    expect(team.posted).toHaveLength(1);
    expect(fallback.posted).toHaveLength(1);
    expect(JSON.stringify(team.posted[0])).toContain('proj_support');
    expect(JSON.stringify(fallback.posted[0])).toContain('proj_search');
  });

  it('without a default webhook, sends only the routed project and says so for the rest', async () => {
    const team = new RecordingChannel();
    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (m: string) => void warnings.push(m), error: () => {} };
    await deliver(new ProjectSlackRoutes(undefined, new Map([['proj_support', team]]), logger));
    expect(team.posted).toHaveLength(1);
    expect(warnings.some((w) => w.includes('email only'))).toBe(true);
  });
});
