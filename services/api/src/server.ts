// Starts the API: connections, bootstrap admin key, HTTP server; answers a handle that closes it all in order.
import { createServer, type Server } from 'node:http';
import {
  type Config,
  createMetrics,
  createRuntime,
  type Logger,
  orderedShutdown,
  runMigrations,
  trackQueueDepth,
  warnWithoutAutovacuum,
} from '@threadwork/shared';
import { embedderFromConfig } from '@threadwork/shared/retrieval/embedder';
import { sql } from 'drizzle-orm';
import { createApp } from './app.js';
import { registerAdminKey } from './auth.js';
import type { AppDeps } from './deps.js';
import { EndUserTokens } from './end-user-tokens.js';
import { findStoredProgress } from './repositories/runs.js';
import { AssistantSnapshots } from './runs/assistant-snapshots.js';
import { ensureDefaultAssistant } from './services/chat/default-assistant.js';
import { RunFeed } from './sse/run-feed.js';
import { VerifiedKeys } from './verified-keys.js';

export interface ApiHandle {
  server: Server;
  url: string;
  deps: AppDeps;
  close(): Promise<void>;
}

export async function startApi(config: Config, log: Logger): Promise<ApiHandle> {
  await runMigrations(config.MIGRATIONS_DATABASE_URL ?? config.DATABASE_URL);
  const runtime = createRuntime(config, log, 'api', 'producer');
  const { db, redis, queues, events, subscriber } = runtime;
  await warnWithoutAutovacuum(db, log);
  const feed = new RunFeed(events, subscriber);
  const stopWatchingRuns = feed.watchSilentRuns(
    config.SSE_HEARTBEAT_MS,
    (runIds) => findStoredProgress(db, runIds),
    log,
  );
  const keys = new VerifiedKeys(config.AUTH_CACHE_MS, `${config.QUEUE_PREFIX}:api-keys:revoked`);
  await keys.follow(subscriber);
  const checkReady = async () => {
    await Promise.all([db.execute(sql`select 1`), redis.ping()]);
    return true;
  };
  if (config.ADMIN_API_KEY) await registerAdminKey(db, config.ADMIN_API_KEY);
  await ensureDefaultAssistant(db, config);
  const metrics = createMetrics('api');
  trackQueueDepth(metrics, [queues.runs, queues.tools, queues.ingest]);
  const assistants = new AssistantSnapshots();
  const deps: AppDeps = {
    db,
    queues,
    events,
    feed,
    keys,
    tokens: new EndUserTokens(db, config),
    assistants,
    config,
    log,
    metrics,
    redis,
    embedder: embedderFromConfig(config),
    checkReady,
  };
  const app = createApp(deps);
  // Node checks the headers and request deadlines on this interval (30 s by default, too coarse for them).
  const server = createServer({ connectionsCheckingInterval: 1000 }, app);
  // Idle connections outlive a load balancer's idle timeout (60 s is common): with Node's 5 s default, a request sent
  // on a connection the API is closing fails with a reset.
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_MS;
  // Slow clients hold a connection and its memory: headers, whole requests and silences each have a deadline.
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.timeout = config.HTTP_IDLE_TIMEOUT_MS;
  await new Promise<void>((resolve) => server.listen(config.PORT, '0.0.0.0', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info({ port }, 'api listening');
  const close = orderedShutdown(
    [
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
      async () => stopWatchingRuns(),
      () => runtime.close(),
    ],
    log,
  );
  return { server, url: `http://127.0.0.1:${port}`, deps, close };
}
