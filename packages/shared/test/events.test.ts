import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  ChannelSubscriber,
  createRedis,
  EventBus,
  newId,
  parseRunEvents,
  type RunEvent,
} from '../src/index.js';

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

  it('replays from inside an append: only the later events of its entry', async () => {
    const runId = newId('run');
    const threadId = newId('thread');
    await bus.append(
      runId,
      threadId,
      ['a', 'b', 'c'].map((text) => ({ event: 'thread.message.delta', data: { text } })),
    );
    await bus.append(runId, threadId, [{ event: 'thread.run.completed', data: {} }]);
    expect((await bus.read(runId, 1)).map((item) => [item.seq, item.data])).toEqual([
      [2, { text: 'b' }],
      [3, { text: 'c' }],
      [4, {}],
    ]);
    expect((await bus.read(runId, 3)).map((item) => item.event)).toEqual(['thread.run.completed']);
    expect(await bus.read(runId, 4)).toEqual([]);
  });

  it('publishes the events of one append as one message on the run channel', async () => {
    const runId = newId('run');
    const received: RunEvent[][] = [];
    const arrived = new Promise<void>((resolve) => {
      void subscriber.subscribe(bus.channel(runId), (message) => {
        received.push(parseRunEvents(message));
        resolve();
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    await subscriber.subscribe(bus.channel(runId), () => {});
    await bus.append(runId, newId('thread'), [
      { event: 'thread.message.delta', data: { text: 'a "quoted" \n value' } },
      { event: 'thread.message.delta', data: { text: 'b' } },
    ]);
    await arrived;
    expect(received).toHaveLength(1);
    expect(received[0]?.map((item) => [item.seq, item.data])).toEqual([
      [1, { text: 'a "quoted" \n value' }],
      [2, { text: 'b' }],
    ]);
  });

  it('reads an entry written as one envelope, as earlier versions wrote them', async () => {
    const runId = newId('run');
    const envelope = {
      seq: 1,
      run_id: runId,
      thread_id: newId('thread'),
      event: 'thread.run.queued',
      data: {},
    };
    await redis.xadd(bus.streamKey(runId), '1-1', 'e', JSON.stringify(envelope));
    expect(await bus.read(runId)).toEqual([envelope]);
  });

  it('holds the appends of one turn of the event loop for one write, unless one must go at once', async () => {
    const connection = createRedis(redisUrl, 'worker', 'events-test-shared');
    await new Promise((resolve) => connection.once('ready', resolve));
    const direct = new EventBus(connection, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 });
    const shared = new EventBus(connection, {
      prefix: randomPrefix(),
      maxLength: 100,
      ttlSeconds: 60,
      shareWrites: true,
    });
    try {
      const runId = newId('run');
      const threadId = newId('thread');
      const first = shared.append(runId, threadId, [{ event: 'thread.run.in_progress', data: {} }]);
      const second = shared.append(runId, threadId, [{ event: 'thread.message.delta', data: { text: 'a' } }]);
      expect(connection.stream.writableCorked).toBe(1);
      const third = shared.append(runId, threadId, [{ event: 'thread.run.completed', data: {} }], {
        atOnce: true,
      });
      expect(connection.stream.writableCorked).toBe(0);
      expect(await Promise.all([first, second, third])).toEqual([1, 2, 3]);
      expect((await shared.read(runId)).map((item) => item.event)).toEqual([
        'thread.run.in_progress',
        'thread.message.delta',
        'thread.run.completed',
      ]);
      const unshared = direct.append(runId, threadId, [{ event: 'thread.message.delta', data: {} }]);
      expect(connection.stream.writableCorked).toBe(0);
      await unshared;
    } finally {
      connection.disconnect();
    }
  });

  it('refuses event names that could break the envelope', async () => {
    await expect(bus.append(newId('run'), newId('thread'), [{ event: 'x","y', data: {} }])).rejects.toThrow(
      /Unsafe/,
    );
  });
});
