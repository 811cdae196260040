// The one error a channel throws when a message was NOT delivered, so the outbox can safely offer it
// again. Anything else thrown during a send leaves the delivery unknown (see deliver-alerts.ts).
export type ChannelName = 'slack' | 'email';

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly channel: ChannelName;
  /** Retrying will not help until someone changes the configuration (revoked webhook, deleted topic). */
  readonly permanent: boolean;
  /** HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** Short machine-readable cause: "no_service", "rate_limited", "ECONNREFUSED", "deadline", ... */
  readonly reason: string;

  constructor(
    message: string,
    details: { channel: ChannelName; permanent: boolean; reason: string; status?: number | undefined },
  ) {
    super(message);
    this.channel = details.channel;
    this.permanent = details.permanent;
    this.reason = details.reason;
    this.status = details.status;
  }
}
