// The `webhooks` queue worker, hosted by the run worker process: its own concurrency, so a slow receiver holds a
// webhook slot, never a run; failed deliveries wait WEBHOOK_RETRY_DELAYS between attempts (the `webhook` backoff).
import {
  type Config,
  type Db,
  type EventBus,
  type Logger,
  type Metrics,
  observeWorker,
  type Queues,
  queuePrefix,
  type RedisConnection,
  retryDelayMs,
  WEBHOOKS_QUEUE,
} from '@threadwork/shared';
import { Worker } from 'bullmq';
import { processWebhookJob } from './webhook-jobs.processor.js';

export interface WebhookDeps {
  db: Db;
  events: EventBus;
  queues: Queues;
  config: Config;
  log: Logger;
  now: () => Date;
}

export function startWebhookWorker(deps: WebhookDeps, redis: RedisConnection, metrics: Metrics): Worker {
  const { config, log } = deps;
  const worker = new Worker(WEBHOOKS_QUEUE, processWebhookJob(deps), {
    connection: redis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    concurrency: config.WEBHOOK_CONCURRENCY,
    // An attempt takes at most WEBHOOK_TIMEOUT_MS; the lock outlasts it, so a slow receiver is not a stalled job.
    lockDuration: config.WEBHOOK_TIMEOUT_MS + 30_000,
    settings: {
      backoffStrategy: (attemptsMade) => retryDelayMs(config.WEBHOOK_RETRY_DELAYS, attemptsMade) ?? 0,
    },
  });
  worker.on('error', (error) => log.error({ err: error }, 'webhook worker error'));
  worker.on('failed', (job, error) =>
    log.info({ jobId: job?.id, attempts: job?.attemptsMade, err: error.message }, 'webhook job failed'),
  );
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'webhook job stalled'));
  observeWorker(metrics, WEBHOOKS_QUEUE, worker);
  return worker;
}
