// Starts the ingest worker: connections, the BullMQ worker on the ingest queue, HTTP probes.
import {
  type Config,
  closeDb,
  createDb,
  createMetrics,
  createRedis,
  INGEST_QUEUE,
  INGEST_SWEEP_SCHEDULER,
  ingestJobOptions,
  type Logger,
  logConnectionErrors,
  observeWorker,
  orderedShutdown,
  queuePrefix,
  redisTargetOf,
  startHealthServer,
  waitForRedis,
  withTimeout,
} from '@threadwork/shared';
import { embedderFromConfig } from '@threadwork/shared/retrieval/embedder';
import { Queue, Worker } from 'bullmq';
import { createIngestProcessor } from './file-ingest.processor.js';

export interface IngestWorker {
  /** The port of /healthz, /readyz and /metrics (INGEST_WORKER_PORT, or the one chosen when it is 0). */
  port: number;
  /** Stops taking jobs, lets the jobs in hand finish until SHUTDOWN_TIMEOUT_MS, then closes connections. Idempotent. */
  close(): Promise<void>;
}

export async function startIngestWorker(config: Config, log: Logger): Promise<IngestWorker> {
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'threadwork-ingest-worker',
    onIdleError: (error) => log.warn({ err: error }, 'idle Postgres connection failed'),
    namedStatements: config.DATABASE_PREPARED_STATEMENTS,
  });
  const redis = createRedis(redisTargetOf(config), 'worker', 'threadwork-ingest-worker', log);
  const prefix = queuePrefix(config.QUEUE_PREFIX);
  const ingest = new Queue(INGEST_QUEUE, { connection: redis, prefix, defaultJobOptions: ingestJobOptions });
  ingest.on('error', logConnectionErrors(log, 'ingest queue'));
  const closeConnections = async () => {
    await ingest.close();
    await redis.quit().catch(() => redis.disconnect());
    await closeDb(db);
  };
  try {
    await waitForRedis(redis);
    const metrics = createMetrics('ingest-worker');
    const health = await startHealthServer(
      config.INGEST_WORKER_PORT,
      { postgres: () => db.$client.query('select 1'), redis: () => redis.ping() },
      metrics.registry,
    );
    const embedder = embedderFromConfig(config);
    const worker = new Worker(
      INGEST_QUEUE,
      createIngestProcessor({ db, embedder, log, queues: { ingest } }),
      {
        connection: redis,
        prefix,
        concurrency: config.INGEST_CONCURRENCY,
        lockDuration: config.INGEST_JOB_LOCK_MS,
        stalledInterval: config.INGEST_JOB_LOCK_MS,
        maxStalledCount: 2,
      },
    );
    // One scheduler across every ingest worker, stated again when Redis comes back (it may have come back empty).
    const scheduleSweeps = () =>
      ingest.upsertJobScheduler(
        INGEST_SWEEP_SCHEDULER,
        { every: config.INGEST_SWEEP_INTERVAL_MS },
        { name: 'file.sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    await scheduleSweeps();
    redis.on('ready', () => {
      scheduleSweeps().catch((error) =>
        log.warn({ err: error }, 'could not schedule the ingest sweeper again'),
      );
    });
    observeWorker(metrics, INGEST_QUEUE, worker);
    worker.on('error', (error) => log.error({ err: error }, 'ingest worker error'));
    worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'ingest job failed'));
    worker.on('stalled', (jobId) => log.warn({ jobId }, 'ingest job stalled; it will be redelivered'));
    log.info(
      { port: health.port, concurrency: config.INGEST_CONCURRENCY, embedding: embedder.model },
      'ingest worker started',
    );
    const close = orderedShutdown(
      [
        () => health.close(),
        () =>
          withTimeout(worker.close(), config.SHUTDOWN_TIMEOUT_MS, 'ingest jobs').catch(() =>
            worker.close(true),
          ),
        closeConnections,
        async () => log.info('ingest worker stopped'),
      ],
      log,
    );
    return { port: health.port, close };
  } catch (error) {
    await closeConnections();
    throw error;
  }
}
