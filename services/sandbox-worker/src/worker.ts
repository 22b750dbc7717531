// Starts the sandbox worker: checks that bubblewrap works, then takes calls from the shared sandbox queue and from
// its own (the calls of the sessions it holds), and serves /healthz, /readyz and /metrics.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createMetrics,
  createRedis,
  type Logger,
  observeWorker,
  orderedShutdown,
  queuePrefix,
  type RedisConnection,
  redisTargetOf,
  SANDBOX_QUEUE,
  type SandboxConfig,
  sandboxSessionKey,
  sandboxWorkerAliveKey,
  sandboxWorkerIdsKey,
  sandboxWorkerQueue,
  sandboxWorkersAliveKey,
  startHealthServer,
  waitForRedis,
} from '@threadwork/shared';
import { Worker } from 'bullmq';
import { Gauge } from 'prom-client';
import { orphanQueues } from './orphan-queues.js';
import { PythonSession } from './python-session.js';
import { createSandboxRateLimiter } from './rate-limit.js';
import { checkSandbox } from './sandbox-check.js';
import { sandboxCommand, sessionUid } from './sandbox-command.js';
import { createSandboxRunProcessor, type ProcessorDeps } from './sandbox-run.processor.js';
import { SessionPool } from './session-pool.js';

export interface SandboxWorker {
  /** This worker's id: its own queue is `sandbox-<id>`. */
  id: string;
  port: number;
  close(): Promise<void>;
}

const REPL_PATH = fileURLToPath(new URL('./repl.py', import.meta.url));
/** How often the worker says it is alive; the mark lasts three times as long. */
const ALIVE_EVERY_MS = 2_000;
const IDLE_SWEEP_EVERY_MS = 5_000;

/** The longest answer line repl.py may write: figures and files in base64, logs escaped in JSON, and some room. */
function maxAnswerBytes(config: SandboxConfig): number {
  return Math.ceil(config.SANDBOX_MAX_RETURN_BYTES * 1.4) + config.SANDBOX_MAX_OUTPUT_BYTES * 6 + 65_536;
}

function startSession(config: SandboxConfig): Promise<PythonSession> {
  const isRoot = process.getuid?.() === 0;
  const spec = sandboxCommand(config, REPL_PATH, sessionUid(config, isRoot));
  return PythonSession.start(spec, maxAnswerBytes(config), config.SANDBOX_CALL_TIMEOUT_MS);
}

/**
 * Marks the worker alive (and some sandbox worker with it) now and every few seconds; answers the function that
 * stops and removes its own mark.
 */
function keepAlive(redis: RedisConnection, prefix: string, key: string, log: Logger): () => Promise<void> {
  // Two single-key writes, not a transaction: on a Redis Cluster the keys may live on different masters.
  const mark = () =>
    Promise.all([
      redis.set(key, '1', 'PX', ALIVE_EVERY_MS * 3),
      redis.set(sandboxWorkersAliveKey(prefix), '1', 'PX', ALIVE_EVERY_MS * 3),
    ]).catch((error: unknown) => {
      log.warn({ err: error }, 'could not renew the alive mark');
    });
  void mark();
  const timer = setInterval(mark, ALIVE_EVERY_MS);
  return async () => {
    clearInterval(timer);
    await redis.del(key);
  };
}

/** Answers a function that starts a BullMQ worker running calls from a queue. */
function queueConsumer(config: SandboxConfig, deps: ProcessorDeps, log: Logger): (queue: string) => Worker {
  const processor = createSandboxRunProcessor(deps);
  return (queue) => {
    const worker = new Worker(queue, processor, {
      connection: deps.redis,
      prefix: queuePrefix(config.QUEUE_PREFIX),
      concurrency: config.SANDBOX_CONCURRENCY,
      // A call holds its job for up to its wall time; the lock outlasts it, so that only a dead worker's job stalls.
      lockDuration: config.SANDBOX_CALL_TIMEOUT_MS + 30_000,
      maxStalledCount: 1,
    });
    worker.on('error', (error) => log.error({ err: error, queue }, 'sandbox worker error'));
    worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'sandbox job failed'));
    return worker;
  };
}

export async function startSandboxWorker(config: SandboxConfig, log: Logger): Promise<SandboxWorker> {
  const isRoot = process.getuid?.() === 0;
  await checkSandbox(
    config,
    sandboxCommand(config, REPL_PATH, sessionUid(config, isRoot)),
    maxAnswerBytes(config),
  );
  const workerId = randomBytes(6).toString('hex');
  const redis = createRedis(redisTargetOf(config), 'worker', 'threadwork-sandbox-worker', log);
  try {
    await waitForRedis(redis);
    const prefix = config.QUEUE_PREFIX;
    const pool = new SessionPool({
      start: () => startSession(config),
      idleMs: config.SANDBOX_SESSION_IDLE_MS,
      maxSessions: config.SANDBOX_MAX_SESSIONS,
      onEnded: async (threadId) => {
        await redis.del(sandboxSessionKey(prefix, threadId));
      },
    });
    const metrics = createMetrics('sandbox-worker');
    new Gauge({
      name: 'threadwork_sandbox_sessions',
      help: 'Python sessions this sandbox worker holds',
      registers: [metrics.registry],
      collect() {
        this.set(pool.size);
      },
    });
    const health = await startHealthServer(
      config.SANDBOX_WORKER_PORT,
      { redis: () => redis.ping() },
      metrics.registry,
    );
    const stopMarking = keepAlive(redis, prefix, sandboxWorkerAliveKey(prefix, workerId), log);
    const limiter = createSandboxRateLimiter(redis, config);
    const consume = queueConsumer(config, { pool, redis, prefix, workerId, config, log, limiter }, log);
    const workers = [consume(SANDBOX_QUEUE), consume(sandboxWorkerQueue(workerId))];
    // Never removed by the worker itself: once it stops, another takes over what is left on its queue.
    await redis.sadd(sandboxWorkerIdsKey(prefix), workerId);
    const orphans = orphanQueues({ redis, prefix, workerId, log, consume });
    const sweepEveryMs = Math.min(IDLE_SWEEP_EVERY_MS, config.SANDBOX_SESSION_IDLE_MS / 2);
    const idleSweep = setInterval(() => {
      void pool.endIdle();
      orphans
        .adopt()
        .catch((error: unknown) => log.warn({ err: error }, 'could not look for stopped workers'));
    }, sweepEveryMs);
    for (const worker of workers) observeWorker(metrics, worker.name, worker);
    log.info(
      { workerId, port: health.port, concurrency: config.SANDBOX_CONCURRENCY },
      'sandbox worker started',
    );
    const close = orderedShutdown(
      [
        () => health.close(),
        stopMarking,
        async () => clearInterval(idleSweep),
        () => Promise.all(workers.map((worker) => worker.close())),
        () => orphans.close(),
        async () => pool.closeAll(),
        () => redis.quit().catch(() => redis.disconnect()),
        async () => log.info('sandbox worker stopped'),
      ],
      log,
    );
    return { id: workerId, port: health.port, close };
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}
