// The connections every service holds: Postgres, Redis (commands and a subscriber), the queues and the event bus.
import type { Config } from './config.js';
import { closeDb, createDb, type Db } from './db/client.js';
import { EventBus } from './events.js';
import type { Logger } from './logger.js';
import { closeQueues, createQueues, type Queues } from './queues.js';
import { createRedis, type RedisConnection, type RedisProfile, redisTargetOf } from './redis.js';
import { ChannelSubscriber } from './subscriber.js';
import {
  dispatchWebhooksOnRunEnd,
  WebhookEndpointPresence,
  webhookEndpointsChannel,
} from './webhook-dispatch.js';

export interface Runtime {
  db: Db;
  redis: RedisConnection;
  queues: Queues;
  events: EventBus;
  subscriber: ChannelSubscriber;
  /** Closes queues, the subscriber, Redis and Postgres, in that order. */
  close(): Promise<void>;
}

/** `producer` fails fast (an API answers 503 rather than hang); `worker` waits for Redis to come back. */
export function createRuntime(config: Config, log: Logger, service: string, profile: RedisProfile): Runtime {
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: `threadwork-${service}`,
    onIdleError: (error) => log.warn({ err: error }, 'idle Postgres connection failed'),
    namedStatements: config.DATABASE_PREPARED_STATEMENTS,
  });
  const target = redisTargetOf(config);
  const redis = createRedis(target, profile, `threadwork-${service}`, log);
  const subscriber = new ChannelSubscriber(
    createRedis(target, 'subscriber', `threadwork-${service}-subscriber`, log),
  );
  const queues = createQueues(redis, config.QUEUE_PREFIX, log);
  const webhookEndpoints = new WebhookEndpointPresence(db);
  void subscriber
    .subscribe(webhookEndpointsChannel(config.QUEUE_PREFIX), () => webhookEndpoints.forget())
    .catch((error: unknown) => log.warn({ err: error }, 'could not follow webhook registrations'));
  const events = new EventBus(redis, {
    prefix: config.QUEUE_PREFIX,
    maxLength: config.EVENT_STREAM_MAX_LENGTH,
    ttlSeconds: config.EVENT_STREAM_TTL_SECONDS,
    onAppended: dispatchWebhooksOnRunEnd(queues, webhookEndpoints, log),
  });
  return {
    db,
    redis,
    queues,
    events,
    subscriber,
    async close() {
      await closeQueues(queues);
      await subscriber.close();
      redis.disconnect();
      await closeDb(db);
    },
  };
}
