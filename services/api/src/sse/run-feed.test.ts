import { ChannelSubscriber, createRedis, EventBus, newId, type RunEvent } from '@threadwork/shared';
import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RunFeed } from './run-feed.js';

const redisUrl = inject('redisUrl');
const redis = createRedis(redisUrl, 'worker', 'run-feed-test');
const subscriber = new ChannelSubscriber(createRedis(redisUrl, 'worker', 'run-feed-test-sub'));
const bus = new EventBus(redis, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 });
const feed = new RunFeed(bus, subscriber);

afterAll(async () => {
  await subscriber.close();
  redis.disconnect();
});

function delta(n: number) {
  return { event: 'thread.message.delta', data: { n } };
}

function collect(until: number) {
  const seen: number[] = [];
  let reached: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const onEvent = (event: RunEvent) => {
    seen.push(event.seq);
    if (event.seq >= until) reached();
  };
  return { seen, done, onEvent };
}

describe('RunFeed', () => {
  it('replays the events after afterSeq, then follows live ones, each once and in order', async () => {
    const runId = newId('run');
    const threadId = newId('thread');
    await bus.append(runId, threadId, [delta(1), delta(2), delta(3)]);
    const events = collect(5);
    const stop = await feed.follow(runId, 1, events.onEvent);
    await bus.append(runId, threadId, [delta(4), delta(5)]);
    await events.done;
    stop();
    expect(events.seen).toEqual([2, 3, 4, 5]);
  });

  it('lets two followers of one run go independently, and unsubscribes when the last one stops', async () => {
    const runId = newId('run');
    const threadId = newId('thread');
    const first = collect(2);
    const second = collect(2);
    const stopFirst = await feed.follow(runId, 0, first.onEvent);
    const stopSecond = await feed.follow(runId, 0, second.onEvent);
    const channels = subscriber.channelCount;
    await bus.append(runId, threadId, [delta(1), delta(2)]);
    await Promise.all([first.done, second.done]);
    stopFirst();
    expect(subscriber.channelCount).toBe(channels);
    stopSecond();
    expect(subscriber.channelCount).toBe(channels - 1);
    expect([first.seen, second.seen]).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });
});
