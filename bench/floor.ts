// The floor on this machine: what BullMQ alone does on the same Redis, with the job options Threadwork's runs use.
import { runJobOptions } from '@threadwork/shared';
import { type ConnectionOptions, FlowProducer, type Job, Queue, QueueEvents, Worker } from 'bullmq';
import pg from 'pg';
import { type LatencySummary, roundSummary, since, summarise } from './stats.js';

export interface FloorResult {
  /** No-op jobs per second, added in bulk, processed by one Worker with concurrency 50. */
  noopJobsPerSecond: number;
  noopJobs: number;
  /** One job at a time: add → completed, observed through QueueEvents (job.waitUntilFinished). */
  roundTrip: LatencySummary;
  /** A FlowProducer parent with one child on another queue, both no-op: add → parent completed. */
  flowRoundTrip: LatencySummary;
  /** Context, not a target's floor: one durable single-row INSERT (its own transaction) on the bench database. */
  postgresCommit: LatencySummary;
  /**
   * Context, not a target's floor: a streamed run's hops on bare drivers and single-row statements, POST →
   * run.completed (path-floor.ts); what the latency scenario would measure if Threadwork cost nothing of its own.
   */
  pathRoundTrip?: LatencySummary;
  /** The same path with scenario 5's model server: the first token added over the server's own time. */
  pathFirstTokenAdded?: LatencySummary;
  /** The same path's runs per second, counted as scenario 1 counts Threadwork's. */
  pathRunsPerSecond?: number;
}

export interface FloorOptions {
  redisUrl: string;
  databaseUrl: string;
  prefix: string;
  jobs: number;
  roundTrips: number;
  /** Upper bound on each measurement. */
  timeoutMs: number;
}

const jobOptions = { ...runJobOptions, attempts: 1 };
const WARM_UP = 30;
const noop = async () => {};

/** Connection options rather than a shared client, so BullMQ opens and closes its own connections. */
function connection(url: string): ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number(parsed.pathname.slice(1) || 0),
    maxRetriesPerRequest: null,
  };
}

async function noopThroughput(options: FloorOptions): Promise<number> {
  const queue = new Queue('floor-throughput', {
    connection: connection(options.redisUrl),
    prefix: options.prefix,
  });
  for (let added = 0; added < options.jobs; added += 1000) {
    const batch = Math.min(1000, options.jobs - added);
    await queue.addBulk(
      Array.from({ length: batch }, (_, index) => ({
        name: 'noop',
        data: { n: added + index },
        opts: jobOptions,
      })),
    );
  }
  const worker = new Worker('floor-throughput', noop, {
    connection: connection(options.redisUrl),
    prefix: options.prefix,
    concurrency: 50,
    autorun: false,
  });
  await worker.waitUntilReady();
  let completed = 0;
  const started = performance.now();
  const finished = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('floor throughput timed out')), options.timeoutMs);
    worker.on('completed', () => {
      completed += 1;
      if (completed < options.jobs) return;
      clearTimeout(timer);
      resolve(since(started));
    });
  });
  void worker.run();
  try {
    const elapsedMs = await finished;
    return (completed / elapsedMs) * 1000;
  } finally {
    await worker.close();
    await queue.close();
  }
}

async function timeSequentially(
  count: number,
  deadline: number,
  once: () => Promise<unknown>,
): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let index = 0; index < count + WARM_UP && performance.now() < deadline; index += 1) {
    const started = performance.now();
    await once();
    if (index >= WARM_UP) samples.push(since(started));
  }
  return roundSummary(summarise(samples));
}

async function roundTrip(options: FloorOptions): Promise<LatencySummary> {
  const name = 'floor-round-trip';
  const queue = new Queue(name, { connection: connection(options.redisUrl), prefix: options.prefix });
  const events = new QueueEvents(name, { connection: connection(options.redisUrl), prefix: options.prefix });
  const worker = new Worker(name, noop, {
    connection: connection(options.redisUrl),
    prefix: options.prefix,
    concurrency: 50,
  });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  try {
    return await timeSequentially(options.roundTrips, performance.now() + options.timeoutMs, async () => {
      const job = await queue.add('noop', {}, jobOptions);
      await job.waitUntilFinished(events, 5_000);
    });
  } finally {
    await Promise.all([worker.close(), events.close(), queue.close()]);
  }
}

async function flowRoundTrip(options: FloorOptions): Promise<LatencySummary> {
  const flows = new FlowProducer({ connection: connection(options.redisUrl), prefix: options.prefix });
  const events = new QueueEvents('floor-parent', {
    connection: connection(options.redisUrl),
    prefix: options.prefix,
  });
  const workers = ['floor-parent', 'floor-child'].map(
    (name) =>
      new Worker(name, async (job: Job) => (name === 'floor-child' ? job.id : undefined), {
        connection: connection(options.redisUrl),
        prefix: options.prefix,
        concurrency: 50,
      }),
  );
  await Promise.all([events.waitUntilReady(), ...workers.map((worker) => worker.waitUntilReady())]);
  try {
    return await timeSequentially(options.roundTrips, performance.now() + options.timeoutMs, async () => {
      const flow = await flows.add({
        name: 'parent',
        queueName: 'floor-parent',
        opts: jobOptions,
        children: [{ name: 'child', queueName: 'floor-child', opts: jobOptions }],
      });
      await flow.job.waitUntilFinished(events, 5_000);
    });
  } finally {
    await Promise.all([...workers.map((worker) => worker.close()), events.close(), flows.close()]);
  }
}

async function postgresCommit(options: FloorOptions): Promise<LatencySummary> {
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query(
      'create table if not exists bench_floor_commit (id bigserial primary key, at timestamptz)',
    );
    return await timeSequentially(options.roundTrips, performance.now() + options.timeoutMs, () =>
      client.query('insert into bench_floor_commit (at) values (now())'),
    );
  } finally {
    await client.query('drop table if exists bench_floor_commit').catch(() => undefined);
    await client.end();
  }
}

/** Measures the three floors in turn; the prefix keeps their keys apart from everything else. */
export async function measureFloor(options: FloorOptions): Promise<FloorResult> {
  const noopJobsPerSecond = await noopThroughput(options);
  const trip = await roundTrip(options);
  const flowTrip = await flowRoundTrip(options);
  const commit = await postgresCommit(options);
  return {
    noopJobsPerSecond,
    noopJobs: options.jobs,
    roundTrip: trip,
    flowRoundTrip: flowTrip,
    postgresCommit: commit,
  };
}
