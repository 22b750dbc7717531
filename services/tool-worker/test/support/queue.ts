// The producer side of the tools queue in tests: add tool.invoke jobs the way the run worker does and await results.
import {
  type Config,
  createRedis,
  queuePrefix,
  TOOLS_QUEUE,
  type ToolJobResult,
  toolJobOptions,
} from '@threadwork/shared';
import { type Job, Queue, QueueEvents } from 'bullmq';

export interface ToolQueue {
  queue: Queue;
  events: QueueEvents;
  /** Adds a tool.invoke job with jobId = callId (and extra data, for malformed payloads). */
  add(data: Record<string, unknown>, jobId: string): Promise<Job>;
  /** Adds the job and waits for its ToolJobResult. */
  invoke(call: { runId: string; stepId: string; callId: string }): Promise<ToolJobResult>;
  close(): Promise<void>;
}

export async function createToolQueue(config: Config): Promise<ToolQueue> {
  const connection = createRedis(config.REDIS_URL, 'worker', 'tool-queue-test');
  const prefix = queuePrefix(config.QUEUE_PREFIX);
  const queue = new Queue(TOOLS_QUEUE, { connection, prefix, defaultJobOptions: toolJobOptions });
  const events = new QueueEvents(TOOLS_QUEUE, { connection: connection.duplicate(), prefix });
  await events.waitUntilReady();
  const add = (data: Record<string, unknown>, jobId: string) => queue.add('tool.invoke', data, { jobId });
  return {
    queue,
    events,
    add,
    async invoke(call) {
      const job = await add(call, call.callId);
      return (await job.waitUntilFinished(events, 30_000)) as ToolJobResult;
    },
    async close() {
      await events.close();
      await queue.close();
      connection.disconnect();
    },
  };
}
