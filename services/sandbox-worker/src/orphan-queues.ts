// The queues of sandbox workers that stopped: a live worker takes each one over, so that calls routed to a worker
// that died before taking them still run (in a new session, which their logs announce) instead of waiting for their
// run's expiry.
import {
  type Logger,
  type RedisConnection,
  sandboxWorkerAliveKey,
  sandboxWorkerIdsKey,
  sandboxWorkerQueue,
} from '@threadwork/shared';
import type { Worker } from 'bullmq';

export interface OrphanQueues {
  /** Takes over the queue of each stopped worker that no other worker took. */
  adopt(): Promise<void>;
  close(): Promise<void>;
}

interface OrphanDeps {
  redis: RedisConnection;
  prefix: string;
  workerId: string;
  log: Logger;
  /** A BullMQ worker on the queue, running calls as this worker's own. */
  consume: (queue: string) => Worker;
}

/** How long a takeover is reserved for the worker that won it. */
const TAKEOVER_MS = 60_000;

export function orphanQueues(deps: OrphanDeps): OrphanQueues {
  const { redis, prefix, workerId, log } = deps;
  const consuming = new Map<string, Worker>();
  const release = async (deadId: string) => {
    const worker = consuming.get(deadId);
    consuming.delete(deadId);
    await worker?.close();
  };
  return {
    async adopt() {
      for (const deadId of await redis.smembers(sandboxWorkerIdsKey(prefix))) {
        if (deadId === workerId || consuming.has(deadId)) continue;
        if ((await redis.get(sandboxWorkerAliveKey(prefix, deadId))) !== null) continue;
        const won = await redis.set(
          `${prefix}:sandbox-takeover:${deadId}`,
          workerId,
          'PX',
          TAKEOVER_MS,
          'NX',
        );
        if (won !== 'OK') continue;
        await redis.srem(sandboxWorkerIdsKey(prefix), deadId);
        log.warn({ deadWorkerId: deadId }, 'taking over the queue of a sandbox worker that stopped');
        const worker = deps.consume(sandboxWorkerQueue(deadId));
        // Nothing is routed to a stopped worker's queue any more: once empty, it is let go.
        worker.on('drained', () => void release(deadId));
        consuming.set(deadId, worker);
      }
    },
    async close() {
      await Promise.all([...consuming.keys()].map(release));
    },
  };
}
