import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ChannelSubscriber, createRedis, EventBus, newId, type RunEvent } from '../src/index.js';

const redisUrl = inject('redisUrl');
const redis = createRedis(redisUrl, 'worker', 'events-test');
const subscriberConnection = createRedis(redisUrl, 'worker', 'events-test-sub');
const bus = new EventBus(redis, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 });
const subscriber = new ChannelSubscriber(subscriberConnection);

afterAll(async () => {
  await subscriber.close();
  redis.disconnect();
});

describe('EventBus', () => {
  it('appends events with increasing seq and replays them from any point', async () => {
    const runId = newId('run');
    const threadId = newId('thread');
    const first = await bus.append(runId, threadId, [
      { event: 'thread.run.created', data: { id: runId } },
      { event: 'thread.run.queued', data: { id: runId } },
    ]);
    const third = await bus.append(runId, threadId, [{ event: 'thread.run.in_progress', data: { n: 3 } }]);
    expect([first, third]).toEqual([1, 3]);
    expect((await bus.read(runId)).map((item) => item.seq)).toEqual([1, 2, 3]);
    const tail = await bus.read(runId, 2);
    expect(tail).toEqual([
      { seq: 3, run_id: runId, thread_id: threadId, event: 'thread.run.in_progress', data: { n: 3 } },
    ]);
    expect(await bus.lastSeq(runId)).toBe(3);
  });

  it('publishes each appended event on the run channel', async () => {
    const runId = newId('run');
    const received: RunEvent[] = [];
    const arrived = new Promise<void>((resolve) => {
      void subscriber.subscribe(bus.channel(runId), (message) => {
        received.push(JSON.parse(message) as RunEvent);
        if (received.length === 2) resolve();
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    await subscriber.subscribe(bus.channel(runId), () => {});
    await bus.append(runId, newId('thread'), [
      { event: 'thread.message.delta', data: { text: 'a "quoted" \n value' } },
      { event: 'thread.message.delta', data: { text: 'b' } },
    ]);
    await arrived;
    expect(received.map((item) => item.data)).toEqual([{ text: 'a "quoted" \n value' }, { text: 'b' }]);
  });

  it('refuses event names that could break the envelope', async () => {
    await expect(bus.append(newId('run'), newId('thread'), [{ event: 'x","y', data: {} }])).rejects.toThrow(
      /Unsafe/,
    );
  });
});
