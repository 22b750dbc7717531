// Scenario 7, code_interpreter: print(1) through the sandbox queue, in a warm session (the thread's, on the worker
// holding it) and in a new one (a new thread: a new Python process in a new bubblewrap sandbox).
import {
  createLogger,
  createRedis,
  loadSandboxConfig,
  newId,
  queuePrefix,
  type SandboxConfig,
  sandboxJobOptions,
  sandboxJobResult,
  sandboxQueueFor,
} from '@threadwork/shared';
import { Queue, QueueEvents } from 'bullmq';
import { startSandboxWorker } from '../../services/sandbox-worker/src/worker.js';
import { type LatencySummary, roundSummary, summarise } from '../stats.js';

export type SandboxResult =
  | { status: 'measured'; calls: number; warm: LatencySummary; newSession: LatencySummary }
  | { status: 'blocked'; reason: string };

interface SandboxBench {
  redisUrl: string;
  prefix: string;
  calls: number;
  deadline: number;
}

function benchConfig({ redisUrl, prefix }: SandboxBench): SandboxConfig {
  return loadSandboxConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    SANDBOX_WORKER_PORT: '0',
    SANDBOX_RATE_LIMIT_PER_USER: '1000000/60',
    SANDBOX_RATE_LIMIT_GLOBAL: '1000000/60',
  });
}

export async function measureSandbox(bench: SandboxBench): Promise<SandboxResult> {
  const config = benchConfig(bench);
  const log = createLogger({ name: 'bench-sandbox', level: 'silent' });
  const worker = await startSandboxWorker(config, log).catch((error: unknown) => error as Error);
  if (worker instanceof Error) return { status: 'blocked', reason: worker.message };
  const connection = createRedis(config.REDIS_URL, 'worker', 'bench-sandbox');
  // Options rather than a connection: each QueueEvents then owns its connection, and closes it.
  const eventsConnection = connection.options;
  const queues = new Map<string, { queue: Queue; events: QueueEvents }>();
  const queueOf = async (name: string) => {
    const known = queues.get(name);
    if (known) return known;
    const prefix = queuePrefix(config.QUEUE_PREFIX);
    const opened = {
      queue: new Queue(name, { connection, prefix, defaultJobOptions: sandboxJobOptions }),
      events: new QueueEvents(name, { connection: eventsConnection, prefix }),
    };
    await opened.events.waitUntilReady();
    queues.set(name, opened);
    return opened;
  };
  /** One call as the run worker makes it: routed to the thread's session; answers its milliseconds. */
  const timeCall = async (threadId: string): Promise<number> => {
    const started = performance.now();
    const { queue, events } = await queueOf(await sandboxQueueFor(connection, config.QUEUE_PREFIX, threadId));
    const callId = newId('call');
    const data = { callId, threadId, ownerId: 'bench', code: 'print(1)', files: [] };
    const job = await queue.add('sandbox.run', data, { jobId: callId });
    const result = sandboxJobResult.parse(await job.waitUntilFinished(events, 60_000));
    if (result.logs !== '1\n') throw new Error(`print(1) answered ${JSON.stringify(result.logs)}`);
    return performance.now() - started;
  };
  try {
    const warmThread = newId('thread');
    await timeCall(warmThread);
    await timeCall(newId('thread'));
    const warm: number[] = [];
    const fresh: number[] = [];
    while (warm.length < bench.calls && performance.now() < bench.deadline) {
      warm.push(await timeCall(warmThread));
      fresh.push(await timeCall(newId('thread')));
    }
    return {
      status: 'measured',
      calls: warm.length,
      warm: roundSummary(summarise(warm)),
      newSession: roundSummary(summarise(fresh)),
    };
  } finally {
    for (const { queue, events } of queues.values()) {
      await events.close();
      await queue.close();
    }
    connection.disconnect();
    await worker.close();
  }
}
