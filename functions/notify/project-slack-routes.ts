// Per-project Slack webhooks: a team's own channel gets its project's alerts, the default webhook the
// rest. Without a default webhook, alerts of other projects go to email only.
import type { Deadline } from '../core/usage.ts';
import type { SlackPayload } from './slack-message.ts';
import type { NotifyLogger, SlackChannel } from './slack-webhook-client.ts';

export class ProjectSlackRoutes implements SlackChannel {
  readonly #fallback: SlackChannel | undefined;
  readonly #byProject: ReadonlyMap<string, SlackChannel>;
  readonly #logger: NotifyLogger | undefined;

  constructor(
    fallback: SlackChannel | undefined,
    byProject: ReadonlyMap<string, SlackChannel>,
    logger?: NotifyLogger,
  ) {
    this.#fallback = fallback;
    this.#byProject = byProject;
    this.#logger = logger;
  }

  /** The default webhook's post; unrouted alerts with no default webhook are left to email. */
  async post(payload: SlackPayload, deadline: Deadline): Promise<void> {
    if (this.#fallback) return this.#fallback.post(payload, deadline);
    this.#logger?.warn(
      'No default Slack webhook: an alert of a project without its own webhook goes to email only',
      {
        headline: payload.text,
      },
    );
  }

  forProject(projectId: string): SlackChannel | undefined {
    return this.#byProject.get(projectId);
  }
}
