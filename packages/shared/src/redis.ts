// The one Redis connection factory: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES), in two
// profiles: producers fail fast, workers and subscribers wait.
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

export { Cluster, Redis } from 'ioredis';

/** A connection to one Redis server or to a cluster: both take the same commands. */
export type RedisConnection = Redis | Cluster;

export type RedisProfile = 'producer' | 'worker' | 'subscriber';

/** Where Redis is: a server's URL, or a cluster's seed nodes (any few of its masters; the rest are discovered). */
export type RedisTarget = { url: string } | { clusterNodes: readonly string[] };

export function redisTargetOf(config: {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: readonly string[];
}): RedisTarget {
  const nodes = config.REDIS_CLUSTER_NODES ?? [];
  return nodes.length > 0 ? { clusterNodes: nodes } : { url: config.REDIS_URL };
}

function profileOptions(profile: RedisProfile, name: string): RedisOptions {
  const waits = profile !== 'producer';
  return {
    connectionName: name,
    maxRetriesPerRequest: waits ? null : 2,
    enableOfflineQueue: waits,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
}

function clusterNode(address: string): ClusterNode {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function createCluster(nodes: readonly string[], profile: RedisProfile, name: string): Cluster {
  const { enableOfflineQueue, ...redisOptions } = profileOptions(profile, name);
  return new Cluster(nodes.map(clusterNode), {
    redisOptions,
    enableOfflineQueue,
    lazyConnect: false,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // A subscriber holds one connection per master for the run channels (SSUBSCRIBE), besides its SUBSCRIBE one.
    shardedSubscribers: profile === 'subscriber',
  });
}

/** With `log`, the connection's errors are logged (see `logConnectionErrors`) instead of printed by ioredis. */
export function createRedis(url: string, profile: RedisProfile, name: string, log?: Logger): Redis;
export function createRedis(
  target: RedisTarget,
  profile: RedisProfile,
  name: string,
  log?: Logger,
): RedisConnection;
export function createRedis(
  target: string | RedisTarget,
  profile: RedisProfile,
  name: string,
  log?: Logger,
): RedisConnection {
  const where = typeof target === 'string' ? { url: target } : target;
  const redis =
    'url' in where
      ? new Redis(where.url, { ...profileOptions(profile, name), lazyConnect: false })
      : createCluster(where.clusterNodes, profile, name);
  if (log) redis.on('error', logConnectionErrors(log, name));
  return redis;
}

/**
 * An `error` listener for a Redis connection or a BullMQ Queue, Worker, FlowProducer or QueueEvents (without one a
 * BullMQ object prints every error and can stop a worker). Logs the first error, then at most one line per interval
 * with how many it left out, so a Redis outage is a few lines rather than one per reconnect attempt.
 */
export function logConnectionErrors(
  log: Logger,
  source: string,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (error: Error) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let leftOut = 0;
  return (error) => {
    if (now() - loggedAt < intervalMs) {
      leftOut += 1;
      return;
    }
    log.warn({ err: error, source, leftOut }, 'redis connection error');
    loggedAt = now();
    leftOut = 0;
  };
}

/** Resolves once the connection is ready; rejects on the first error so start-up can report it. */
export async function waitForRedis(redis: RedisConnection, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    const onError = (error: Error) => done(error);
    function done(error?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    }
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}
