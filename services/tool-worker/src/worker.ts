// Starts the tool worker: the tools database, connections, the BullMQ worker on the tools queue, HTTP probes.
import {
  type Config,
  ConfigError,
  closeDb,
  createDb,
  createMetrics,
  createRedis,
  type Db,
  embedderFromConfig,
  type Logger,
  latencyBuckets,
  type Metrics,
  observeWorker,
  orderedShutdown,
  queuePrefix,
  type RedisConnection,
  redisTargetOf,
  startHealthServer,
  TOOLS_QUEUE,
  waitForRedis,
} from '@threadwork/shared';
import { isSameDatabase, prepareToolsDatabase, readerDatabaseUrl } from '@threadwork/shared/tools-database';
import { Worker } from 'bullmq';
import pg from 'pg';
import { Histogram } from 'prom-client';
import { projectToolsDatabaseUrl } from './project-settings.queries.js';
import { createToolRateLimiter } from './rate-limit.js';
import { createToolInvokeProcessor } from './tool-invoke.processor.js';
import { type ToolPolicies, toolPolicies } from './tool-policy.js';
import { createToolRunners } from './tools/registry.js';
import type { SqlToolDeps } from './tools/sql/sql-deps.js';
import { createSqlSpaces, type SqlSpaces } from './tools/sql/sql-spaces.js';

/** Connections a tool worker keeps to each project's own tools database. */
const PROJECT_DATABASE_POOL_SIZE = 2;

export interface ToolWorker {
  /** The port of /healthz, /readyz and /metrics (TOOL_WORKER_PORT, or the one chosen when it is 0). */
  port: number;
  /** Stops taking jobs, lets the jobs in hand finish until SHUTDOWN_TIMEOUT_MS, then closes connections. Idempotent. */
  close(): Promise<void>;
}

/** The SQL tools may never act on Threadwork's own tables. */
function assertSeparateDatabases(config: Config): void {
  if (isSameDatabase(config.DATABASE_URL, config.TOOLS_DATABASE_URL))
    throw new ConfigError(
      'Invalid configuration: TOOLS_DATABASE_URL must name a database other than DATABASE_URL',
    );
}

async function closeWorker(worker: Worker, timeoutMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([worker.close().then(() => 'closed' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log.warn(
      { timeoutMs },
      'jobs still running at the shutdown deadline; their calls will be settled as interrupted',
    );
    await worker.close(true);
  }
}

interface Connections {
  db: Db;
  toolsPool: pg.Pool;
  /** The SQL tools' connections per project (the projects' own tools databases have their own pools). */
  sqlSpaces: SqlSpaces;
  redis: RedisConnection;
  close(): Promise<void>;
}

function openConnections(config: Config, log: Logger): Connections {
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'threadwork-tool-worker',
    onIdleError: (error) => log.warn({ err: error }, 'idle Postgres connection failed'),
    namedStatements: config.DATABASE_PREPARED_STATEMENTS,
  });
  const toolsPool = new pg.Pool({
    connectionString: config.TOOLS_DATABASE_URL,
    max: config.TOOLS_DATABASE_POOL_SIZE,
    application_name: 'threadwork-tools',
  });
  toolsPool.on('error', (error) => log.warn({ err: error }, 'idle tools database connection failed'));
  const sqlSpaces = createSqlSpaces({
    toolsUrl: config.TOOLS_DATABASE_URL,
    toolsPool,
    defaultReaderUrl:
      config.TOOLS_READONLY_DATABASE_URL ??
      readerDatabaseUrl(config.TOOLS_DATABASE_URL, config.TOOLS_READONLY_ROLE),
    projectDatabaseUrl: (projectId) => projectToolsDatabaseUrl(db, projectId),
    poolSize: PROJECT_DATABASE_POOL_SIZE,
    log,
  });
  const redis = createRedis(redisTargetOf(config), 'worker', 'threadwork-tool-worker', log);
  return {
    db,
    toolsPool,
    sqlSpaces,
    redis,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await Promise.all([toolsPool.end(), sqlSpaces.close(), closeDb(db)]);
    },
  };
}

function sqlToolDeps(config: Config): Omit<SqlToolDeps, 'pool' | 'space'> {
  return {
    protectedSchemas: config.TOOLS_PROTECTED_SCHEMAS,
    limits: {
      statementTimeoutMs: config.RUN_SQL_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.RUN_SQL_LOCK_TIMEOUT_MS,
      maxRows: config.RUN_SQL_MAX_ROWS,
      maxResultBytes: config.RUN_SQL_MAX_RESULT_BYTES,
    },
  };
}

interface WorkerParts {
  connections: Connections;
  policies: ToolPolicies;
  metrics: Metrics;
}

function startWorker(config: Config, log: Logger, { connections, policies, metrics }: WorkerParts): Worker {
  const { db, sqlSpaces, redis } = connections;
  const toolDuration = new Histogram({
    name: 'threadwork_tool_duration_seconds',
    help: 'Time a built-in tool call took to execute, by tool and outcome',
    labelNames: ['tool', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [metrics.registry],
  });
  const processor = createToolInvokeProcessor({
    db,
    runners: createToolRunners({
      catalog: db.$client,
      files: { db, embedder: embedderFromConfig(config) },
      sql: sqlToolDeps(config),
      sqlSpaces,
    }),
    policies,
    log,
    toolDuration,
    limiter: createToolRateLimiter(redis, policies, `${config.QUEUE_PREFIX}:tool-rate`),
    maxRateLimitWaitMs: config.TOOL_RATE_LIMIT_MAX_WAIT_MS,
  });
  const worker = new Worker(TOOLS_QUEUE, processor, {
    connection: redis,
    prefix: queuePrefix(config.QUEUE_PREFIX),
    concurrency: config.TOOL_CONCURRENCY,
    limiter: { max: config.TOOL_QUEUE_LIMIT_MAX, duration: config.TOOL_QUEUE_LIMIT_DURATION_MS },
    lockDuration: config.TOOL_JOB_LOCK_MS,
    stalledInterval: config.TOOL_JOB_LOCK_MS,
    maxStalledCount: 1,
  });
  observeWorker(metrics, TOOLS_QUEUE, worker);
  worker.on('error', (error) => log.error({ err: error }, 'tool worker error'));
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'tool job failed'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'tool job stalled; it will be redelivered'));
  return worker;
}

/**
 * One tool call must not end the process. An error nobody awaited (a stray promise, an exception thrown in a
 * connection's event handler) is logged instead: each call has its own connections and its own timeout, so the call
 * it came from still ends with an output, and the jobs of other calls go on. Returns the function removing this.
 */
function keepServingAfterStrayErrors(log: Logger): () => Promise<void> {
  const onRejection = (reason: unknown) =>
    log.error({ err: reason }, 'unhandled rejection; the tool worker keeps serving');
  const onException = (error: Error) =>
    log.error({ err: error }, 'uncaught exception; the tool worker keeps serving');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

export async function startToolWorker(config: Config, log: Logger): Promise<ToolWorker> {
  assertSeparateDatabases(config);
  const policies = toolPolicies(config);
  const readerRole = config.TOOLS_READONLY_DATABASE_URL ? null : config.TOOLS_READONLY_ROLE;
  await prepareToolsDatabase(config.TOOLS_DATABASE_URL, { seed: config.TOOLS_DATABASE_SEED, readerRole });
  const connections = openConnections(config, log);
  try {
    await waitForRedis(connections.redis);
    const metrics = createMetrics('tool-worker');
    const health = await startHealthServer(
      config.TOOL_WORKER_PORT,
      { postgres: () => connections.db.$client.query('select 1'), redis: () => connections.redis.ping() },
      metrics.registry,
    );
    const stopGuarding = keepServingAfterStrayErrors(log);
    const worker = startWorker(config, log, { connections, policies, metrics });
    log.info({ port: health.port, concurrency: config.TOOL_CONCURRENCY }, 'tool worker started');
    const close = orderedShutdown(
      [
        () => health.close(),
        () => closeWorker(worker, config.SHUTDOWN_TIMEOUT_MS, log),
        () => connections.close(),
        stopGuarding,
        async () => log.info('tool worker stopped'),
      ],
      log,
    );
    return { port: health.port, close };
  } catch (error) {
    await connections.close();
    throw error;
  }
}
