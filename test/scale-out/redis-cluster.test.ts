// The Redis pieces of every service on a 3-master Redis Cluster: run events on sharded channels, the broadcast
// control channel, BullMQ queues and flows under the hash-tagged prefix, the sweeper's job scheduler, and the rate
// limits shared across processes.
import {
  ChannelSubscriber,
  Cluster,
  closeQueues,
  createLogger,
  createQueues,
  createRedis,
  EventBus,
  loadConfig,
  messageTextDelta,
  newId,
  parseRunEvents,
  type Queues,
  type RedisConnection,
  type RunEvent,
  SWEEP_SCHEDULER,
  waitForRedis,
} from '@threadwork/shared';
import { randomPrefix, waitFor } from '@threadwork/testing';
import { type Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetSpent, RequestBudgets } from '../../services/api/src/request-budgets.js';
import { createToolRateLimiter } from '../../services/tool-worker/src/rate-limit.js';
import { toolPolicies } from '../../services/tool-worker/src/tool-policy.js';
import { type OwnRedisCluster, startOwnRedisCluster } from '../support/redis-cluster.js';

const log = createLogger({ name: 'redis-cluster-test', level: 'silent' });
let cluster: OwnRedisCluster;
let redis: RedisConnection;
let subscriber: ChannelSubscriber;
let queues: Queues;
const prefix = randomPrefix();
const workers: Worker[] = [];

beforeAll(async () => {
  cluster = await startOwnRedisCluster();
  const target = { clusterNodes: cluster.nodes };
  redis = createRedis(target, 'worker', 'cluster-test', log);
  subscriber = new ChannelSubscriber(createRedis(target, 'subscriber', 'cluster-test-sub', log));
  await waitForRedis(redis);
  queues = createQueues(redis, prefix, log);
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  if (queues) await closeQueues(queues);
  await subscriber?.close();
  redis?.disconnect();
  await cluster?.destroy();
});

/** Which master owns a key's slot, by its port. */
async function ownerOf(key: string): Promise<string> {
  const slot = await redis.cluster('KEYSLOT', key);
  const shards = await redis.cluster('SLOTS');
  const owner = shards.find(([from, to]) => slot >= from && slot <= to);
  return String(owner?.[2]?.[1]);
}

describe('a Redis Cluster', () => {
  it('is the target the connection factory builds when given cluster nodes', () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect((redis as Cluster).nodes('master')).toHaveLength(3);
  });

  it('carries runs spread over its masters, each run on one sharded channel beside its log', async () => {
    const bus = new EventBus(redis, { prefix, maxLength: 100, ttlSeconds: 60 });
    const runs = Array.from({ length: 12 }, () => ({ id: newId('run'), threadId: newId('thread') }));
    const received = new Map<string, RunEvent[]>();
    for (const run of runs) {
      received.set(run.id, []);
      await subscriber.subscribe(
        bus.channel(run.id),
        (message) => received.get(run.id)?.push(...parseRunEvents(message)),
        'sharded',
      );
    }
    await Promise.all(runs.map((run) => bus.append(run, 1, [messageTextDelta('msg_1', run.id)])));
    await waitFor(async () => [...received.values()].every((events) => events.length === 1), {
      what: 'every run channel to deliver its event',
    });
    for (const run of runs) {
      expect(received.get(run.id)?.[0]).toMatchObject({ seq: 1, run_id: run.id });
      expect((await bus.read(run.id)).map((event) => event.seq)).toEqual([1]);
    }
    const owners = new Set(await Promise.all(runs.map((run) => ownerOf(bus.streamKey(run.id)))));
    expect(owners.size).toBeGreaterThan(1);
  });

  it('tells every subscriber of the control channels, whichever master they hear through', async () => {
    const bus = new EventBus(redis, { prefix, maxLength: 100, ttlSeconds: 60 });
    const heard: string[] = [];
    const controlPrefix = bus.controlChannel('');
    await subscriber.subscribePattern(`${controlPrefix}*`, (channel) => {
      heard.push(channel.slice(controlPrefix.length));
    });
    const runIds = Array.from({ length: 6 }, () => newId('run'));
    await Promise.all(runIds.map((runId) => bus.publishCancel(runId)));
    await waitFor(async () => heard.length === runIds.length, { what: 'every cancel to be heard' });
    expect(new Set(heard)).toEqual(new Set(runIds));
  });

  it('runs BullMQ jobs and a flow across the runs and tools queues in the hash-tagged prefix', async () => {
    const done: string[] = [];
    const handle = async (job: Job) => {
      done.push(`${job.queueName}:${job.name}`);
      return job.name;
    };
    for (const name of ['runs', 'tools']) {
      workers.push(new Worker(name, handle, { connection: redis, prefix: queues.prefix }));
    }
    await queues.runs.add('run.execute', {}, { jobId: newId('run') });
    await queues.flows.add({
      name: 'run.continue',
      queueName: 'runs',
      children: [
        { name: 'tool.invoke', queueName: 'tools', data: {} },
        { name: 'tool.invoke', queueName: 'tools', data: {} },
      ],
    });
    await waitFor(async () => done.length === 4, { what: 'the job and the flow to finish' });
    expect(done.sort()).toEqual([
      'runs:run.continue',
      'runs:run.execute',
      'tools:tool.invoke',
      'tools:tool.invoke',
    ]);
    expect(done.indexOf('runs:run.continue')).toBeGreaterThan(-1);
  });

  it('keeps one sweeper scheduler whatever the number of workers that state it', async () => {
    const schedule = () =>
      queues.runs.upsertJobScheduler(SWEEP_SCHEDULER, { every: 60_000 }, { name: 'run.sweep', data: {} });
    await Promise.all([schedule(), schedule(), schedule()]);
    const schedulers = await queues.runs.getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key)).toEqual([SWEEP_SCHEDULER]);
    await queues.runs.removeJobScheduler(SWEEP_SCHEDULER);
  });

  it('shares request budgets between API processes', async () => {
    const budgets = [
      new RequestBudgets(redis, `${prefix}:budget`, 20),
      new RequestBudgets(redis, `${prefix}:budget`, 20),
    ];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) => budgets[index % 2]?.take('key_a')),
    );
    const admitted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const refused = outcomes.filter(
      (outcome) => outcome.status === 'rejected' && outcome.reason instanceof BudgetSpent,
    ).length;
    expect([admitted, refused]).toEqual([20, 10]);
  });

  it('shares per-user tool limits between tool workers', async () => {
    const policies = toolPolicies(loadConfig({ TOOL_RATE_LIMIT_PER_USER: '2/60' }));
    const limiters = [0, 1].map(() => createToolRateLimiter(redis, policies, `${prefix}:tool-rate`));
    const waits = await Promise.all(
      [0, 1, 2, 3].map((index) => limiters[index % 2]?.reserve('proj_a', 'list_tables')),
    );
    expect(waits.filter((wait) => wait === null)).toHaveLength(2);
    expect(waits.filter((wait) => wait?.scope === 'user')).toHaveLength(2);
  });
});
