// Redis's script cache flushed under a live connection (SCRIPT FLUSH, or a proxy that keeps the client's socket across
// a failover): a new run's job still goes to Redis after the run's first events, as `appendThen` promises. On its own
// redis-server: the shared one's scripts are never flushed.
import { createRedis, EventBus, messageTextDelta, newId, type RedisConnection } from '@threadwork/shared';
import { randomPrefix } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnServer, startOwnRedis } from '../support/own-services.js';

let server: OwnServer;
let redis: RedisConnection;
let admin: RedisConnection;

beforeAll(async () => {
  server = await startOwnRedis();
  redis = createRedis(server.url, 'worker', 'script-flush-test');
  admin = createRedis(server.url, 'worker', 'script-flush-admin');
});

afterAll(async () => {
  redis?.disconnect();
  admin?.disconnect();
  await server?.destroy();
});

describe('EventBus.appendThen after the script cache was flushed', () => {
  it('runs the next command after the append, on the same connection, without waiting for its reply', async () => {
    const bus = new EventBus(redis, { prefix: randomPrefix(), maxLength: 100, ttlSeconds: 60 });
    const run = { id: newId('run'), threadId: newId('thread') };
    // The connection has sent the append script once: ioredis now sends it by its SHA alone.
    await bus.append(run, 1, [messageTextDelta('msg_1', 'before')]);
    await admin.script('FLUSH');
    const entriesSeenNext = await bus.appendThen(run, 2, [messageTextDelta('msg_1', 'after')], () =>
      redis.xlen(bus.streamKey(run.id)),
    );
    expect(entriesSeenNext).toBe(2);
    expect((await bus.read(run.id)).map((event) => event.seq)).toEqual([1, 2]);
  });
});
