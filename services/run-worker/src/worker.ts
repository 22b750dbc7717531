// Starts the run worker: connections, the `runs` queue worker, a health server; answers a handle that closes it.
import {
  type Config,
  createMetrics,
  createRuntime,
  type Logger,
  observeWorker,
  orderedShutdown,
  queuePrefix,
  RUNS_QUEUE,
  startHealthServer,
  withTimeout,
} from '@threadwork/shared';
import { Worker } from 'bullmq';
import { sql } from 'drizzle-orm';
import { CancelSignals } from './cancel-watch.js';
import { createProviderRegistry } from './providers/index.js';
import { estimateCostUsd } from './providers/pricing.js';
import { processRunJob } from './run-jobs.processor.js';
import type { RunLoopDeps } from './run-loop.js';

export interface RunWorkerHandle {
  worker: Worker;
  close(): Promise<void>;
}

export async function startRunWorker(config: Config, log: Logger): Promise<RunWorkerHandle> {
  const runtime = createRuntime(config, log, 'run-worker', 'worker');
  const { db, redis, queues, events, subscriber } = runtime;
  const cancels = await CancelSignals.start(subscriber, events);
  const providers = createProviderRegistry(config, log);
  const deps: RunLoopDeps = {
    db,
    events,
    queues,
    cancels,
    providers,
    config,
    log,
    estimateCostUsd: (model, promptTokens, completionTokens) =>
      estimateCostUsd(model, promptTokens, completionTokens, providers.prices),
  };
  const worker = new Worker(RUNS_QUEUE, processRunJob(deps), {
    connection: redis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    concurrency: config.RUN_CONCURRENCY,
    lockDuration: config.RUN_JOB_LOCK_MS,
    stalledInterval: config.RUN_JOB_LOCK_MS,
  });
  worker.on('error', (error) => log.error({ err: error }, 'run worker error'));
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'run job failed'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'run job stalled'));
  const metrics = createMetrics('run-worker');
  observeWorker(metrics, RUNS_QUEUE, worker);
  const health = await startHealthServer(
    config.RUN_WORKER_PORT,
    { postgres: () => db.execute(sql`select 1`), redis: () => redis.ping() },
    metrics.registry,
  );
  await worker.waitUntilReady();
  log.info({ concurrency: config.RUN_CONCURRENCY }, 'run worker started');
  const close = orderedShutdown(
    [
      () => withTimeout(worker.close(), config.SHUTDOWN_TIMEOUT_MS, 'run worker close'),
      () => health.close(),
      () => runtime.close(),
    ],
    log,
  );
  return { worker, close };
}
