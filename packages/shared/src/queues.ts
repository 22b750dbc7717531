// The job catalog: queue names, job names, payload schemas and default options, shared by producers and workers.
import { type ConnectionOptions, FlowProducer, type JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { callIdSchema, idSchema, runIdSchema } from './ids.js';
import type { Logger } from './logger.js';
import { logConnectionErrors } from './redis.js';
import { webhookEventTypeSchema } from './webhooks.js';

export const RUNS_QUEUE = 'runs';
export const TOOLS_QUEUE = 'tools';
export const WEBHOOKS_QUEUE = 'webhooks';
export const INGEST_QUEUE = 'ingest';
/** Calls of threads without a live session: any sandbox worker takes them. */
export const SANDBOX_QUEUE = 'sandbox';

/** The queue of one sandbox worker: the calls of the sessions it holds. */
export function sandboxWorkerQueue(workerId: string): string {
  return `sandbox-${workerId}`;
}

export const runJobs = {
  'run.execute': z.object({ runId: runIdSchema }),
  'run.continue': z.object({ runId: runIdSchema, stepId: idSchema('step') }),
  'run.resume': z.object({ runId: runIdSchema, stepId: idSchema('step') }),
  'run.expire': z.object({ runId: runIdSchema, stepId: idSchema('step') }),
  /** The sweeper's pass: added by a job scheduler (SWEEP_SCHEDULER), never by hand. */
  'run.sweep': z.object({}),
} as const;

/** The job scheduler that adds one `run.sweep` job every SWEEP_INTERVAL_MS, whatever the number of run workers. */
export const SWEEP_SCHEDULER = 'run-sweeper';

export const toolJobs = {
  'tool.invoke': z.object({ runId: runIdSchema, stepId: idSchema('step'), callId: callIdSchema }),
} as const;

/** A file handed to the code in /mnt/data (its bytes in base64), or handed back from there. */
export const sandboxFile = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\0]+$/, 'a file name, without a directory')
    .refine((name) => name !== '.' && name !== '..', 'a file name, without a directory'),
  data: z.base64(),
});
export type SandboxFile = z.infer<typeof sandboxFile>;

/** The sandbox worker holds no database: the job carries the code and the files it runs with. */
export const sandboxJobs = {
  'sandbox.run': z.object({
    callId: callIdSchema,
    threadId: idSchema('thread'),
    ownerId: z.string().min(1),
    code: z.string().max(256_000),
    files: z.array(sandboxFile).max(20).default([]),
  }),
} as const;
export type SandboxJobData = z.infer<(typeof sandboxJobs)['sandbox.run']>;

/** The call's session: kept from an earlier call, new, new because the earlier one was lost, or none (not run). */
export const sessionStates = ['continued', 'new', 'restarted', 'not_run'] as const;

export const sandboxJobResult = z.object({
  callId: callIdSchema,
  /** stdout and stderr as the code wrote them, with the notes of the sandbox (a restarted session, a cut output). */
  logs: z.string(),
  /** The code raised, or the sandbox stopped it: the model reads the logs either way. */
  isError: z.boolean(),
  session: z.enum(sessionStates),
  /** Figures the code drew with matplotlib, as PNG in base64. */
  images: z.array(z.base64()),
  /** Files the code wrote or changed in /mnt/data. */
  files: z.array(sandboxFile),
  durationMs: z.number().int().min(0),
});
export type SandboxJobResult = z.infer<typeof sandboxJobResult>;

/** Code runs at most once: a call is never retried, and a redelivered one answers that it was interrupted. */
export const sandboxJobOptions: JobsOptions = {
  attempts: 1,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const webhookJobs = {
  /** A run event that ends a run: one message per subscribed endpoint, each sent by a `webhook.deliver` job. */
  'webhook.dispatch': z.object({
    runId: runIdSchema,
    seq: z.number().int().positive(),
    type: webhookEventTypeSchema,
  }),
  /** One message to one endpoint; retried on WEBHOOK_RETRY_DELAYS (the `webhook` backoff strategy). */
  'webhook.deliver': z.object({ messageId: idSchema('webhookMessage') }),
} as const;

export const ingestJobs = {
  /** Extract, chunk, embed and store one file of a vector store; `generation` tells one adding of it from another. */
  'file.ingest': z.object({
    vectorStoreId: idSchema('vectorStore'),
    fileId: idSchema('file'),
    generation: z.number().int().positive(),
  }),
  /** The ingest sweeper's pass: added by a job scheduler (INGEST_SWEEP_SCHEDULER), never by hand. */
  'file.sweep': z.object({}),
} as const;

/** Queues again every file still waiting for its ingestion: a job lost with Redis is added back, a live one is kept. */
export const INGEST_SWEEP_SCHEDULER = 'ingest-sweeper';

export type RunJobName = keyof typeof runJobs;
export type ToolJobName = keyof typeof toolJobs;
export type RunJobData<N extends RunJobName> = z.infer<(typeof runJobs)[N]>;
export type ToolJobData = z.infer<(typeof toolJobs)['tool.invoke']>;
export type WebhookJobName = keyof typeof webhookJobs;
export type WebhookJobData<N extends WebhookJobName> = z.infer<(typeof webhookJobs)[N]>;
export type WebhookJob = { [N in WebhookJobName]: { name: N; data: WebhookJobData<N> } }[WebhookJobName];
export type IngestJobData = z.infer<(typeof ingestJobs)['file.ingest']>;
export type RunJob = { [N in RunJobName]: { name: N; data: RunJobData<N> } }[RunJobName];

/** The result a tool job returns to its parent: the text the model reads. */
export const toolJobResult = z.object({ callId: callIdSchema, output: z.string(), isError: z.boolean() });
export type ToolJobResult = z.infer<typeof toolJobResult>;

export const runJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const toolJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * A dispatch (the only record of a run event's webhooks) rides out a Postgres outage of about half an hour; a
 * delivery's attempts and backoff are set from WEBHOOK_RETRY_DELAYS when it is added.
 */
export const webhookJobOptions: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** A failed extraction fails its file at once; only errors of the moment (embedding calls, Postgres) are retried. */
export const ingestJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** BullMQ key prefix in a Redis Cluster hash tag, so every key of a queue lands in one slot. */
export function queuePrefix(name: string): string {
  return `{${name}}`;
}

export interface Queues {
  runs: Queue;
  tools: Queue;
  webhooks: Queue;
  ingest: Queue;
  flows: FlowProducer;
  prefix: string;
}

export function createQueues(connection: ConnectionOptions, prefixName: string, log: Logger): Queues {
  const prefix = queuePrefix(prefixName);
  const runs = new Queue(RUNS_QUEUE, { connection, prefix, defaultJobOptions: runJobOptions });
  const tools = new Queue(TOOLS_QUEUE, { connection, prefix, defaultJobOptions: toolJobOptions });
  const webhooks = new Queue(WEBHOOKS_QUEUE, { connection, prefix, defaultJobOptions: webhookJobOptions });
  const ingest = new Queue(INGEST_QUEUE, { connection, prefix, defaultJobOptions: ingestJobOptions });
  const flows = new FlowProducer({ connection, prefix });
  runs.on('error', logConnectionErrors(log, 'runs queue'));
  tools.on('error', logConnectionErrors(log, 'tools queue'));
  webhooks.on('error', logConnectionErrors(log, 'webhooks queue'));
  ingest.on('error', logConnectionErrors(log, 'ingest queue'));
  flows.on('error', logConnectionErrors(log, 'flow producer'));
  return { runs, tools, webhooks, ingest, flows, prefix };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all([
    queues.runs.close(),
    queues.tools.close(),
    queues.webhooks.close(),
    queues.ingest.close(),
    queues.flows.close(),
  ]);
}

/** Job ids are deterministic so that a repeated enqueue of the same step is a no-op. */
export function runJobId(job: RunJob): string {
  switch (job.name) {
    case 'run.execute':
      return job.data.runId;
    case 'run.continue':
      return `${job.data.runId}-${job.data.stepId}`;
    case 'run.resume':
      return `${job.data.runId}-${job.data.stepId}-resume`;
    case 'run.expire':
      return `${job.data.runId}-expire-${job.data.stepId}`;
    case 'run.sweep':
      return `sweep-${Date.now()}`;
  }
}

export async function enqueueRun(queues: Queues, job: RunJob, options: JobsOptions = {}): Promise<void> {
  const data = runJobs[job.name].parse(job.data);
  await queues.runs.add(job.name, data, { jobId: runJobId(job), ...options });
}

/** A dispatch per run event, a delivery per message: enqueueing either again is a no-op while the job is kept. */
export function webhookJobId(job: WebhookJob): string {
  switch (job.name) {
    case 'webhook.dispatch':
      return `${job.data.runId}-${job.data.seq}-webhooks`;
    case 'webhook.deliver':
      return job.data.messageId;
  }
}

export async function enqueueWebhookJob(
  queues: Queues,
  job: WebhookJob,
  options: JobsOptions = {},
): Promise<void> {
  const data = webhookJobs[job.name].parse(job.data);
  await queues.webhooks.add(job.name, data, { jobId: webhookJobId(job), ...options });
}

/** One job per adding of a file to a store: adding the same file again while its job is kept is a no-op. */
export async function enqueueIngestion(queues: Pick<Queues, 'ingest'>, data: IngestJobData): Promise<void> {
  const parsed = ingestJobs['file.ingest'].parse(data);
  await queues.ingest.add('file.ingest', parsed, {
    jobId: `${parsed.vectorStoreId}-${parsed.fileId}-${parsed.generation}`,
  });
}
