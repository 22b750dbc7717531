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
});
