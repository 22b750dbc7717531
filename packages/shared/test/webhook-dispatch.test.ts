import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  closeQueues,
  createLogger,
  createQueues,
  createRedis,
  dispatchWebhooksOnRunEnd,
  EventBus,
  newId,
  type RunObject,
  runStatusEvent,
} from '../src/index.js';

const redisUrl = inject('redisUrl');
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const redis = createRedis(redisUrl, 'worker', 'webhook-dispatch-test');
const prefix = randomPrefix();
const queues = createQueues(redis, prefix, log);
const bus = new EventBus(redis, {
  prefix,
  maxLength: 100,
  ttlSeconds: 60,
  onAppended: dispatchWebhooksOnRunEnd(queues, log),
});

afterAll(async () => {
  await closeQueues(queues);
  redis.disconnect();
});

function runIn(status: RunObject['status'], id: string): RunObject {
  return { id, object: 'thread.run', status } as RunObject;
}

describe('dispatchWebhooksOnRunEnd', () => {
  it('adds one webhook.dispatch job, with ids only, per final event an append publishes', async () => {
    const run = { id: newId('run'), threadId: newId('thread') };
    await bus.append(run, 4, [runStatusEvent(runIn('in_progress', run.id))]);
    await bus.append(run, 5, [
      runStatusEvent(runIn('cancelling', run.id)),
      runStatusEvent(runIn('cancelled', run.id)),
    ]);
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
    const listener = dispatchWebhooksOnRunEnd(closedQueues, {
      ...log,
      warn: (...args: unknown[]) => warnings.push(args),
    } as unknown as typeof log);
    const run = { id: newId('run'), threadId: newId('thread') };
    await expect(listener(run, 1, [runStatusEvent(runIn('completed', run.id))])).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
    await closeQueues(closedQueues).catch(() => {});
  });
});
