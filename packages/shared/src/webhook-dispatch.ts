// Where webhooks start: the event bus's listener that turns a run's final events into `webhook.dispatch` jobs.
import type { Db } from './db/client.js';
import { webhookEndpoints } from './db/schema.js';
import type { EventRun } from './events.js';
import type { Logger } from './logger.js';
import { enqueueWebhookJob, type Queues } from './queues.js';
import type { NewRunEvent } from './run-events.js';
import { webhookEventOf } from './webhooks.js';

/** The channel on which an API tells every process that an endpoint was registered. */
export function webhookEndpointsChannel(prefix: string): string {
  return `${prefix}:webhook-endpoints-registered`;
}

/**
 * Whether this deployment has any webhook endpoint, so that runs end without a dispatch job when it has none (the
 * common case, and every run's path). Known "none" is asked again at most once a second, and forgotten at once when
 * an API says an endpoint was registered; "some" is asked again every ten seconds (a deleted one costs a dispatch
 * that finds nobody).
 */
export class WebhookEndpointPresence {
  private known: { hasAny: boolean; at: number } | null = null;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** An endpoint was registered somewhere. */
  forget(): void {
    this.known = null;
  }

  async hasAny(): Promise<boolean> {
    const maxAge = this.known?.hasAny ? 10_000 : 1_000;
    if (this.known && this.now() - this.known.at < maxAge) return this.known.hasAny;
    const [row] = await this.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).limit(1);
    this.known = { hasAny: row !== undefined, at: this.now() };
    return this.known.hasAny;
  }
}

/**
 * The event bus's listener: after a run's events are appended (its state already persisted), each final one
 * becomes a `webhook.dispatch` job carrying ids only, when the deployment has endpoints at all. Enqueueing is one
 * Redis write and never fails the run: an error is logged, and the run carries on.
 */
export function dispatchWebhooksOnRunEnd(queues: Queues, presence: WebhookEndpointPresence, log: Logger) {
  return async (run: EventRun, firstSeq: number, events: readonly NewRunEvent[]): Promise<void> => {
    const jobs = events.flatMap((event, index) => {
      const type = webhookEventOf(event);
      return type ? [{ runId: run.id, seq: firstSeq + index, type }] : [];
    });
    if (jobs.length === 0) return;
    const hasEndpoints = await presence.hasAny().catch((error: unknown) => {
      log.warn({ err: error, runId: run.id }, 'could not tell whether webhook endpoints exist');
      return true;
    });
    if (!hasEndpoints) return;
    for (const data of jobs) {
      await enqueueWebhookJob(queues, { name: 'webhook.dispatch', data }).catch((error: unknown) =>
        log.warn(
          { err: error, runId: run.id, type: data.type },
          'could not enqueue the webhooks of a run event',
        ),
      );
    }
  };
}
