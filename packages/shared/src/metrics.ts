// Prometheus metrics: one registry per process, the instruments each service records, queue depth on scrape.
import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  sseClients: Gauge;
  queueWait: Histogram<'queue' | 'job'>;
  jobDuration: Histogram<'queue' | 'job' | 'outcome'>;
  runsFinished: Counter<'status'>;
  firstToken: Histogram<'model'>;
  tokens: Counter<'model' | 'kind'>;
  costUsd: Counter<'model'>;
  sweeperActions: Counter<'action'>;
}

/** Histogram buckets, in seconds, for every latency the services record. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'threadwork_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: 'threadwork_sse_clients',
      help: 'Open SSE connections',
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: 'threadwork_queue_wait_seconds',
      help: 'Time a job waited in its queue before a worker took it',
      labelNames: ['queue', 'job'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'threadwork_job_duration_seconds',
      help: 'Time a worker spent on a job',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    runsFinished: new Counter({
      name: 'threadwork_runs_finished_total',
      help: 'Runs that reached a terminal or waiting status',
      labelNames: ['status'],
      registers: [registry],
    }),
    firstToken: new Histogram({
      name: 'threadwork_model_first_token_seconds',
      help: 'Time from the model call to its first token',
      labelNames: ['model'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'threadwork_model_tokens_total',
      help: 'Tokens used by model calls',
      labelNames: ['model', 'kind'],
      registers: [registry],
    }),
    costUsd: new Counter({
      name: 'threadwork_model_cost_usd_total',
      help: 'Estimated model cost in USD',
      labelNames: ['model'],
      registers: [registry],
    }),
    sweeperActions: new Counter({
      name: 'threadwork_sweeper_actions_total',
      help: 'Runs the sweeper settled after a fault, by what it did',
      labelNames: ['action'],
      registers: [registry],
    }),
  };
}

/** Reports the job counts of each queue when Prometheus scrapes. */
export function trackQueueDepth(metrics: Metrics, queues: Queue[]): void {
  new Gauge({
    name: 'threadwork_queue_jobs',
    help: 'Jobs in each queue by state',
    labelNames: ['queue', 'state'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'waiting-children',
          'prioritized',
        );
        for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
      }
    },
  });
}

/** Records queue wait and processing time for every job a worker finishes. */
export function observeWorker(
  metrics: Metrics,
  queueName: string,
  worker: {
    on(event: 'completed', listener: (job: JobTimes) => void): unknown;
    on(event: 'failed', listener: (job: JobTimes | undefined, error: Error) => void): unknown;
  },
): void {
  const record = (job: JobTimes | undefined, outcome: 'completed' | 'failed') => {
    if (!job?.processedOn) return;
    metrics.queueWait.observe(
      { queue: queueName, job: job.name },
      Math.max(0, job.processedOn - job.timestamp) / 1000,
    );
    if (job.finishedOn) {
      metrics.jobDuration.observe(
        { queue: queueName, job: job.name, outcome },
        (job.finishedOn - job.processedOn) / 1000,
      );
    }
  };
  worker.on('completed', (job) => record(job, 'completed'));
  worker.on('failed', (job) => record(job, 'failed'));
}

interface JobTimes {
  name: string;
  timestamp: number;
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
}
