// The `webhooks` queue processor: validates each job and hands it to the domain function that does it.
import { type WebhookJobData, type WebhookJobName, webhookJobs } from '@threadwork/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { deliverWebhook } from './deliver-webhook.js';
import { dispatchWebhooks } from './dispatch-webhooks.js';
import type { WebhookDeps } from './webhook-worker.js';

function parse<N extends WebhookJobName>(name: N, data: unknown): WebhookJobData<N> {
  const result = webhookJobs[name].safeParse(data);
  if (!result.success) throw new UnrecoverableError(`Malformed ${name} job: ${result.error.message}`);
  return result.data as WebhookJobData<N>;
}

export function processWebhookJob(deps: WebhookDeps) {
  return async (job: Job): Promise<unknown> => {
    switch (job.name as WebhookJobName) {
      case 'webhook.dispatch':
        return dispatchWebhooks(deps, parse('webhook.dispatch', job.data));
      case 'webhook.deliver': {
        const { messageId } = parse('webhook.deliver', job.data);
        return deliverWebhook(deps, messageId, job.attemptsMade + 1, job.opts.attempts ?? 1);
      }
      default:
        throw new UnrecoverableError(`Unknown job name ${job.name}`);
    }
  };
}
