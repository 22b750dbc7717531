import { randomPrefix, waitFor } from '@threadwork/testing';
import { describe, expect, inject, it } from 'vitest';
import { ChannelSubscriber, createRedis } from '../src/index.js';

const redisUrl = inject('redisUrl');

describe('ChannelSubscriber', () => {
  it('keeps a subscription made while its connection is still connecting, and hears what is published after', async () => {
    const publisher = createRedis(redisUrl, 'worker', 'subscriber-test-pub');
    const connection = createRedis(redisUrl, 'worker', 'subscriber-test-sub');
    const subscriber = new ChannelSubscriber(connection);
    const channel = `${randomPrefix()}:channel`;
    const heard: string[] = [];
    try {
      // The socket is up but ioredis has not run its ready check: the window a SUBSCRIBE used to fall into.
      const subscribed = new Promise<unknown>((resolve, reject) => {
        connection.once('connect', () => {
          subscriber.subscribe(channel, (message) => heard.push(message)).then(resolve, reject);
        });
      });
      await subscribed;
      await waitFor(async () => (await publisher.publish(channel, 'hello')) > 0 && heard.length > 0);
      expect(heard[0]).toBe('hello');
      expect(connection.status).toBe('ready');
    } finally {
      await subscriber.close();
      publisher.disconnect();
    }
  });

  it('keeps sharded and broadcast channels apart, each heard from its own publish until it is left', async () => {
    const publisher = createRedis(redisUrl, 'worker', 'subscriber-test-pub');
    const subscriber = new ChannelSubscriber(createRedis(redisUrl, 'subscriber', 'subscriber-test-sub'));
    const sharded = `${randomPrefix()}:run-events:{run_1}`;
    const broadcast = `${randomPrefix()}:announcements`;
    const heard: string[] = [];
    try {
      const leaveSharded = await subscriber.subscribe(
        sharded,
        (message) => heard.push(`s:${message}`),
        'sharded',
      );
      await subscriber.subscribe(broadcast, (message) => heard.push(`b:${message}`));
      // Each kind reaches only its own subscribers: a PUBLISH on the sharded name finds nobody, and the reverse.
      expect(await publisher.publish(sharded, 'wrong kind')).toBe(0);
      expect(await publisher.spublish(broadcast, 'wrong kind')).toBe(0);
      expect(await publisher.spublish(sharded, 'one')).toBe(1);
      expect(await publisher.publish(broadcast, 'two')).toBe(1);
      await waitFor(async () => heard.length === 2);
      expect(heard.sort()).toEqual(['b:two', 's:one']);
      await leaveSharded();
      expect(await publisher.spublish(sharded, 'after')).toBe(0);
      expect(subscriber.channelCount).toBe(1);
    } finally {
      await subscriber.close();
      publisher.disconnect();
    }
  });
});
