import {
  ChannelSubscriber,
  createRedis,
  EventBus,
  messageTextDelta,
  newId,
  type RunEvent,
} from '@threadwork/shared';
import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RunFeed } from './run-feed.js';

const redisUrl = inject('redisUrl');
const redis = createRedis(redisUrl, 'worker', 'run-feed-test');
const subscriberConnection = createRedis(redisUrl, 'worker', 'run-feed-test-sub');
const subscriber = new ChannelSubscriber(subscriberConnection);
const bus = new EventBus(redis, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 });
const feed = new RunFeed(bus, subscriber);

afterAll(async () => {
  await subscriber.close();
  redis.disconnect();
});

/** A run's log as its one writer appends it: event n is a delta of text `n`. */
function runLog(runId = newId('run')) {
  const run = { id: runId, threadId: newId('thread') };
  return {
    runId,
    append: (...seqs: number[]) =>
      bus.append(
        run,
        seqs[0] ?? 1,
        seqs.map((n) => messageTextDelta('msg_1', String(n))),
      ),
  };
}

function collect(until: number) {
  const seen: number[] = [];
  let broken = false;
  let reached: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const listener = {
    onEvent: (event: RunEvent) => {
      seen.push(event.seq);
      if (event.seq >= until) reached();
    },
    onBroken: () => {
      broken = true;
      reached();
    },
  };
  return {
    seen,
    done,
    listener,
    get broken() {
      return broken;
    },
  };
}

describe('RunFeed', () => {
  it('replays the events after afterSeq, then follows live ones, each once and in order', async () => {
    const log = runLog();
    await log.append(1, 2, 3);
    const events = collect(5);
    const stop = await feed.follow(log.runId, 1, 3, events.listener);
    await log.append(4, 5);
    await events.done;
    stop();
    expect(events.seen).toEqual([2, 3, 4, 5]);
  });

  it('holds the history and every event published before start, then delivers them in order, once, and follows on', async () => {
    const log = runLog();
    await log.append(1, 2, 3);
    const held = collect(6);
    const followed = await feed.hold(log.runId, 1, 3);
    // A started follower on the same subscriber sees each message in the same dispatch as the held one.
    const witness = collect(5);
    const stopWitness = await feed.follow(log.runId, 0, 3, witness.listener);
    await log.append(4, 5);
    await witness.done;
    expect(held.seen).toEqual([]);
    followed.start(held.listener);
    expect(held.seen).toEqual([2, 3, 4, 5]);
    await log.append(6);
    await held.done;
    followed.stop();
    stopWitness();
    expect(held.seen).toEqual([2, 3, 4, 5, 6]);
  });

  it('sends nothing held once stopped before start, and lets the subscription go', async () => {
    const log = runLog();
    await log.append(1);
    const channels = subscriber.channelCount;
    const followed = await feed.hold(log.runId, 0, 1);
    expect(subscriber.channelCount).toBe(channels + 1);
    followed.stop();
    const held = collect(1);
    followed.start(held.listener);
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
    await expect(unreadable.hold(newId('run'), 0, 0)).rejects.toThrow();
    expect(subscriber.channelCount).toBe(channels);
  });

  it('follows a new run from its first event without reading the stream back', async () => {
    const log = runLog();
    const { held, listening } = feed.holdNew(log.runId);
    await listening;
    await log.append(1, 2);
    // Gone from the stream, so only a live delivery can bring the events.
    await redis.del(bus.streamKey(log.runId));
    const events = collect(3);
    const witness = collect(3);
    const stopWitness = await feed.follow(log.runId, 2, 2, witness.listener);
    await log.append(3);
    await witness.done;
    held.start(events.listener);
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
    const log = runLog();
    const first = collect(2);
    const second = collect(2);
    const stopFirst = await feed.follow(log.runId, 0, 0, first.listener);
    const stopSecond = await feed.follow(log.runId, 0, 0, second.listener);
    const channels = subscriber.channelCount;
    await log.append(1, 2);
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

  it('tells a follower its events cannot continue when a seq is skipped (events were lost)', async () => {
    const log = runLog();
    await log.append(1, 2);
    const events = collect(10);
    const stop = await feed.follow(log.runId, 0, 2, events.listener);
    await log.append(4);
    await events.done;
    stop();
    expect(events.seen).toEqual([1, 2]);
    expect(events.broken).toBe(true);
  });

  it('tells a follower at once when the run had events after its point but the log has none (flushed)', async () => {
    const events = collect(10);
    const stop = await feed.follow(newId('run'), 3, 7, events.listener);
    await events.done;
    stop();
    expect(events).toMatchObject({ seen: [], broken: true });
  });

  it('catches up from the log after the subscriber connection comes back', async () => {
    const log = runLog();
    await log.append(1);
    const events = collect(3);
    const stop = await feed.follow(log.runId, 0, 1, events.listener);
    await expect.poll(() => events.seen).toEqual([1]);
    const ended = new Promise((resolve) => subscriberConnection.once('end', resolve));
    subscriberConnection.disconnect();
    await ended;
    // Published while nobody listened: only the log has them.
    await log.append(2, 3);
    await subscriberConnection.connect();
    await events.done;
    stop();
    expect(events).toMatchObject({ seen: [1, 2, 3], broken: false });
  });
});
