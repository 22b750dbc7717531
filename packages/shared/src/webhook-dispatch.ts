// Where webhooks start: the event bus's listener that turns a run's final events into `webhook.dispatch` jobs.
import type { EventRun } from './events.js';
import type { Logger } from './logger.js';
import { enqueueWebhookJob, type Queues } from './queues.js';
import type { NewRunEvent } from './run-events.js';
import { webhookEventOf } from './webhooks.js';

/**
 * The event bus's listener: after a run's events are appended (its state already persisted), each final one
 * becomes a `webhook.dispatch` job carrying ids only. Enqueueing is one Redis write and never fails the run: an
 * error is logged, and the run carries on.
 */
export function dispatchWebhooksOnRunEnd(queues: Queues, log: Logger) {
  return async (run: EventRun, firstSeq: number, events: readonly NewRunEvent[]): Promise<void> => {
    const jobs = events.flatMap((event, index) => {
      const type = webhookEventOf(event);
      return type ? [{ runId: run.id, seq: firstSeq + index, type }] : [];
    });
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
