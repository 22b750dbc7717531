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

  it('holds the history and every event published before start, then delivers them in order, once, and follows on', async () => {
    const runId = newId('run');
    const threadId = newId('thread');
    await bus.append(runId, threadId, [delta(1), delta(2), delta(3)]);
    const held = collect(6);
    const followed = await feed.hold(runId, 1);
    // A started follower on the same subscriber sees each message in the same dispatch as the held one.
    const witness = collect(5);
    const stopWitness = await feed.follow(runId, 0, witness.onEvent);
    await bus.append(runId, threadId, [delta(4), delta(5)]);
    await witness.done;
    expect(held.seen).toEqual([]);
    followed.start(held.onEvent);
    expect(held.seen).toEqual([2, 3, 4, 5]);
    await bus.append(runId, threadId, [delta(6)]);
    await held.done;
    followed.stop();
    stopWitness();
    expect(held.seen).toEqual([2, 3, 4, 5, 6]);
  });

  it('sends nothing held once stopped before start, and lets the subscription go', async () => {
    const runId = newId('run');
    await bus.append(runId, newId('thread'), [delta(1)]);
    const channels = subscriber.channelCount;
    const followed = await feed.hold(runId, 0);
    expect(subscriber.channelCount).toBe(channels + 1);
    followed.stop();
    const held = collect(1);
    followed.start(held.onEvent);
    expect(held.seen).toEqual([]);
    expect(subscriber.channelCount).toBe(channels);
  });

  it('rejects when the history cannot be read, leaving no subscription behind', async () => {
    const closed = createRedis(redisUrl, 'producer', 'run-feed-test-closed');
    closed.disconnect();
    const unreadable = new RunFeed(
      new EventBus(closed, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 }),
      subscriber,
    );
    const channels = subscriber.channelCount;
    await expect(unreadable.hold(newId('run'), 0)).rejects.toThrow();
    expect(subscriber.channelCount).toBe(channels);
  });

  it('follows a new run from its first event without reading the stream back', async () => {
    const runId = newId('run');
    const { held, listening } = feed.holdNew(runId);
    await listening;
    await bus.append(runId, newId('thread'), [delta(1), delta(2)]);
    // Gone from the stream, so only a live delivery can bring the events.
    await redis.del(bus.streamKey(runId));
    const events = collect(3);
    const witness = collect(3);
    const stopWitness = await feed.follow(runId, 2, witness.onEvent);
    await bus.append(runId, newId('thread'), [delta(3)]);
    await witness.done;
    held.start(events.onEvent);
    await events.done;
    held.stop();
    stopWitness();
    expect(events.seen).toEqual([1, 2, 3]);
  });

  it('leaves no subscription behind when a new run is stopped before its subscription is confirmed', async () => {
    const channels = subscriber.channelCount;
    const { held, listening } = feed.holdNew(newId('run'));
    held.stop();
    await listening;
    expect(subscriber.channelCount).toBe(channels);
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
