// A run event that ends a run, turned into one message per subscribed endpoint, each sent by its own delivery job.
import {
  enqueueWebhookJob,
  isFinalRunEvent,
  type RunObject,
  toRunObject,
  unixSeconds,
  type WebhookJobData,
  webhookEventOf,
} from '@threadwork/shared';
import type { JobsOptions } from 'bullmq';
import { findRun, subscribedEndpoints, upsertMessage } from './webhook-repository.js';
import type { WebhookDeps } from './webhook-worker.js';

/** Attempts and backoff of a delivery: the first try, then one retry per WEBHOOK_RETRY_DELAYS entry. */
export function deliveryJobOptions(retryDelays: readonly number[]): JobsOptions {
  return { attempts: retryDelays.length + 1, backoff: { type: 'webhook' } };
}

/** The run as the event announced it (from the run's event log), or as stored when the log is gone. */
async function runAsAnnounced(
  deps: WebhookDeps,
  job: WebhookJobData<'webhook.dispatch'>,
): Promise<RunObject | null> {
  const logged = await deps.events.read(job.runId, job.seq - 1).catch(() => []);
  const event = logged.find((item) => item.seq === job.seq);
  if (event && isFinalRunEvent(event) && webhookEventOf(event) === job.type) return event.data;
  const stored = await findRun(deps.db, job.runId);
  return stored ? toRunObject(stored) : null;
}

/** Answers how many endpoints the event was sent to. */
export async function dispatchWebhooks(
  deps: WebhookDeps,
  job: WebhookJobData<'webhook.dispatch'>,
): Promise<number> {
  const endpoints = await subscribedEndpoints(deps.db, job.runId, job.type);
  if (endpoints.length === 0) return 0;
  const data = await runAsAnnounced(deps, job);
  if (!data) {
    deps.log.warn({ runId: job.runId }, 'webhooks for a run that no longer exists: skipped');
    return 0;
  }
  const body = JSON.stringify({ type: job.type, created_at: unixSeconds(deps.now()), data });
  for (const endpoint of endpoints) {
    const message = await upsertMessage(deps.db, {
      endpointId: endpoint.id,
      runId: job.runId,
      seq: job.seq,
      type: job.type,
      body,
    });
    if (message.status !== 'pending') continue;
    await enqueueWebhookJob(
      deps.queues,
      { name: 'webhook.deliver', data: { messageId: message.id } },
      deliveryJobOptions(deps.config.WEBHOOK_RETRY_DELAYS),
    );
  }
  return endpoints.length;
}
