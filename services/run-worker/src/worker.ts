// Starts the run worker: connections, the `runs` and `webhooks` queue workers, a health server; answers a handle
// that closes it.
import {
  type Config,
  createMetrics,
  createRuntime,
  type Logger,
  observeWorker,
  orderedShutdown,
  queuePrefix,
  RUNS_QUEUE,
  SWEEP_SCHEDULER,
  startHealthServer,
  withTimeout,
} from '@threadwork/shared';
import { Worker } from 'bullmq';
import { sql } from 'drizzle-orm';
import { CancelSignals } from './cancel-watch.js';
import type { RunWorkerDeps } from './execute-run.js';
import { workerId } from './held-run.js';
import { createProviderRegistry } from './providers/index.js';
import { estimateCostUsd } from './providers/pricing.js';
import { processRunJob } from './run-jobs.processor.js';
import { startWebhookWorker } from './webhooks/webhook-worker.js';

export interface RunWorkerHandle {
  worker: Worker;
  close(): Promise<void>;
}

export async function startRunWorker(config: Config, log: Logger): Promise<RunWorkerHandle> {
  const runtime = createRuntime(config, log, 'run-worker', 'worker');
  const { db, redis, queues, events, subscriber } = runtime;
  const cancels = await CancelSignals.start(subscriber, events);
  const providers = createProviderRegistry(config, log);
  const metrics = createMetrics('run-worker');
  const deps: RunWorkerDeps = {
    db,
    events,
    queues,
    cancels,
    providers,
    config,
    log,
    metrics,
    estimateCostUsd: (model, promptTokens, completionTokens, cache) =>
      estimateCostUsd(model, promptTokens, completionTokens, providers.prices, cache),
  };
  const worker = new Worker(RUNS_QUEUE, processRunJob(deps), {
    // A job's processedBy (and the queue dashboard) names the worker, as a run's lease owner does.
    name: workerId,
    connection: redis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    concurrency: config.RUN_CONCURRENCY,
    lockDuration: config.RUN_JOB_LOCK_MS,
    stalledInterval: config.RUN_JOB_LOCK_MS,
  });
  worker.on('error', (error) => log.error({ err: error }, 'run worker error'));
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'run job failed'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'run job stalled'));
  observeWorker(metrics, RUNS_QUEUE, worker);
  const webhooks = startWebhookWorker(
    { db, events, queues, config, log, now: () => new Date() },
    redis,
    metrics,
  );
  // One scheduler across every run worker: upserting it again only restates its interval.
  const scheduleSweeps = () =>
    queues.runs.upsertJobScheduler(
      SWEEP_SCHEDULER,
      { every: config.SWEEP_INTERVAL_MS },
      { name: 'run.sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  await scheduleSweeps();
  // A Redis that came back empty (flushed, restarted without persistence) lost the scheduler with the jobs it must
  // now settle: every reconnection states it again.
  redis.on('ready', () => {
    scheduleSweeps().catch((error) => log.warn({ err: error }, 'could not schedule the sweeper again'));
  });
  const health = await startHealthServer(
    config.RUN_WORKER_PORT,
    { postgres: () => db.execute(sql`select 1`), redis: () => redis.ping() },
    metrics.registry,
  );
  await Promise.all([worker.waitUntilReady(), webhooks.waitUntilReady()]);
  log.info({ concurrency: config.RUN_CONCURRENCY }, 'run worker started');
  const close = orderedShutdown(
    [
      () =>
        withTimeout(
          Promise.all([worker.close(), webhooks.close()]),
          config.SHUTDOWN_TIMEOUT_MS,
          'run worker close',
        ),
      () => health.close(),
      () => runtime.close(),
    ],
    log,
  );
  return { worker, close };
}
