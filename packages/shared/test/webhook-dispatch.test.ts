import { createTestDatabase, randomPrefix, type TestDatabase } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  closeDb,
  closeQueues,
  createDb,
  createLogger,
  createQueues,
  createRedis,
  type Db,
  dispatchWebhooksOnRunEnd,
  EventBus,
  newId,
  type RunObject,
  runStatusEvent,
  schema,
  WebhookEndpointPresence,
} from '../src/index.js';

const redisUrl = inject('redisUrl');
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const redis = createRedis(redisUrl, 'worker', 'webhook-dispatch-test');
const prefix = randomPrefix();
const queues = createQueues(redis, prefix, log);
let database: TestDatabase;
let db: Db;
let presence: WebhookEndpointPresence;
let bus: EventBus;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 2 });
  presence = new WebhookEndpointPresence(db);
  bus = new EventBus(redis, {
    prefix,
    maxLength: 100,
    ttlSeconds: 60,
    onAppended: dispatchWebhooksOnRunEnd(queues, presence, log),
  });
});

afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
  await closeDb(db);
  await database.drop();
});

const cancelledRun = (runId: string) => [
  runStatusEvent(runIn('cancelling', runId)),
  runStatusEvent(runIn('cancelled', runId)),
];

function runIn(status: RunObject['status'], id: string): RunObject {
  return { id, object: 'thread.run', status } as RunObject;
}

describe('dispatchWebhooksOnRunEnd', () => {
  it('adds no job while the deployment has no endpoint, and one per final event once one is registered', async () => {
    const quiet = { id: newId('run'), threadId: newId('thread') };
    await bus.append(quiet, 1, cancelledRun(quiet.id));
    expect(await queues.webhooks.getJobs(['waiting'])).toEqual([]);

    await db.insert(schema.webhookEndpoints).values({
      id: newId('webhook'),
      ownerId: newId('apiKey'),
      url: 'https://hooks.example/run',
      events: ['run.cancelled'],
      secret: 'whsec_test',
    });
    presence.forget();
    const run = { id: newId('run'), threadId: newId('thread') };
    await bus.append(run, 4, [runStatusEvent(runIn('in_progress', run.id))]);
    await bus.append(run, 5, cancelledRun(run.id));
    const jobs = await queues.webhooks.getJobs(['waiting']);
    expect(jobs.map((job) => ({ id: job.id, name: job.name, data: job.data }))).toEqual([
      {
        id: `${run.id}-6-webhooks`,
        name: 'webhook.dispatch',
        data: { runId: run.id, seq: 6, type: 'run.cancelled' },
      },
    ]);
  });

  it('never fails the append when the job cannot be added', async () => {
    const closed = createRedis(redisUrl, 'producer', 'webhook-dispatch-closed');
    const closedQueues = createQueues(closed, randomPrefix(), log);
    await closedQueues.webhooks.waitUntilReady();
    closed.disconnect();
    const warnings: unknown[] = [];
    const listener = dispatchWebhooksOnRunEnd(closedQueues, presence, {
      ...log,
      warn: (...args: unknown[]) => warnings.push(args),
    } as unknown as typeof log);
    const run = { id: newId('run'), threadId: newId('thread') };
    await expect(listener(run, 1, [runStatusEvent(runIn('completed', run.id))])).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
    await closeQueues(closedQueues).catch(() => {});
  });
});
