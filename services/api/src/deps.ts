// What the API needs from the outside world, passed in so tests build it against their own database and prefix.
import type { Config, Db, EventBus, Logger, Metrics, Queues, RedisConnection } from '@threadwork/shared';
import type { Embedder } from '@threadwork/shared/retrieval/embedder';
import type { EndUserTokens } from './end-user-tokens.js';
import type { AssistantSnapshots } from './runs/assistant-snapshots.js';
import type { RunFeed } from './sse/run-feed.js';
import type { VerifiedKeys } from './verified-keys.js';

export interface AppDeps {
  db: Db;
  queues: Queues;
  events: EventBus;
  feed: RunFeed;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Keys verified recently; revoking a key goes through it. */
  keys: VerifiedKeys;
  /** End users' own tokens, verified with their project's settings (remembered for AUTH_CACHE_MS). */
  tokens: EndUserTokens;
  /** Assistants as runs last read them (a run's statement checks the row is unchanged). */
  assistants: AssistantSnapshots;
  /** The producer connection (fails fast): rate limits and small reads. */
  redis: RedisConnection;
  /** Embeds search queries (EMBEDDING_MODEL), as the ingest worker embedded the chunks. */
  embedder: Embedder;
  /** Answers true when Postgres and Redis respond (for /readyz). */
  checkReady: () => Promise<boolean>;
}
