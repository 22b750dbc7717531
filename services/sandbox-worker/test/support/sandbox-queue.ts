// A sandbox worker of a test file's own (its own BullMQ prefix) and the producer side of its queue.
import {
  createLogger,
  createRedis,
  loadSandboxConfig,
  newId,
  queuePrefix,
  type Redis,
  SANDBOX_QUEUE,
  type SandboxConfig,
  type SandboxFile,
  type SandboxJobResult,
  sandboxJobOptions,
  sandboxJobResult,
} from '@threadwork/shared';
import { randomPrefix } from '@threadwork/testing';
import { Queue, QueueEvents } from 'bullmq';
import { type SandboxWorker, startSandboxWorker } from '../../src/worker.js';

export const silentLog = createLogger({ name: 'sandbox-worker-test', level: 'silent' });

export interface RunOptions {
  threadId?: string;
  /** A call id already used, to deliver a call again (under another job id). */
  callId?: string;
  ownerId?: string;
  files?: SandboxFile[];
  queue?: string;
}

export interface SandboxHarness {
  config: SandboxConfig;
  worker: SandboxWorker;
  redis: Redis;
  /** Runs code in the thread's session (a new thread unless given) and answers the call's result. */
  run(code: string, options?: RunOptions): Promise<SandboxJobResult>;
  /** Stops the worker and starts another on the same queues and Redis (its sessions are gone). */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export function sandboxConfig(redisUrl: string, overrides: Record<string, string> = {}): SandboxConfig {
  return loadSandboxConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: randomPrefix(),
    SANDBOX_WORKER_PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // The battery makes many calls a minute as one owner; rate-limit.test.ts sets the limits it tests.
    SANDBOX_RATE_LIMIT_PER_USER: '100000/60',
    SANDBOX_RATE_LIMIT_GLOBAL: '100000/60',
    ...overrides,
  });
}

export async function startSandboxHarness(config: SandboxConfig): Promise<SandboxHarness> {
  const connection = createRedis(config.REDIS_URL, 'worker', 'sandbox-queue-test');
  // Options rather than a connection: each QueueEvents then owns its connection, and closes it.
  const eventsConnection = connection.options;
  const prefix = queuePrefix(config.QUEUE_PREFIX);
  const queues = new Map<string, { queue: Queue; events: QueueEvents }>();
  const queueOf = async (name: string) => {
    const known = queues.get(name);
    if (known) return known;
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: sandboxJobOptions });
    const events = new QueueEvents(name, { connection: eventsConnection, prefix });
    await events.waitUntilReady();
    queues.set(name, { queue, events });
    return { queue, events };
  };
  const harness: SandboxHarness = {
    config,
    worker: await startSandboxWorker(config, silentLog),
    redis: connection,
    async run(code, options = {}) {
      const {
        threadId = newId('thread'),
        ownerId = 'project_test',
        files = [],
        queue = SANDBOX_QUEUE,
      } = options;
      const { queue: target, events } = await queueOf(queue);
      const callId = options.callId ?? newId('call');
      const data = { callId, threadId, ownerId, code, files };
      const job = await target.add('sandbox.run', data, { jobId: options.callId ? newId('call') : callId });
      return sandboxJobResult.parse(await job.waitUntilFinished(events, 60_000));
    },
    async restartWorker() {
      await harness.worker.close();
      harness.worker = await startSandboxWorker(config, silentLog);
    },
    async close() {
      await harness.worker.close();
      for (const { queue, events } of queues.values()) {
        await events.close();
        await queue.close();
      }
      connection.disconnect();
    },
  };
  return harness;
}
