import { randomPrefix } from '@threadwork/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  ChannelSubscriber,
  createRedis,
  EventBus,
  messageTextDelta,
  type NewRunEvent,
  newId,
  parseRunEvents,
  type RunEvent,
  RunEventWriter,
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

function newRun() {
  return { id: newId('run'), threadId: newId('thread') };
}

const delta = (text: string): NewRunEvent => messageTextDelta('msg_1', text);
const textOf = (event: RunEvent) =>
  event.event === 'thread.message.delta' ? event.data.delta.content[0]?.text.value : event.event;

describe('EventBus', () => {
  it('numbers the events from the seq the writer gives and replays them from any point', async () => {
    const run = newRun();
    await bus.append(run, 1, [delta('a'), delta('b')]);
    await bus.append(run, 3, [delta('c')]);
    expect((await bus.read(run.id)).map((item) => item.seq)).toEqual([1, 2, 3]);
    const [tail] = await bus.read(run.id, 2);
    expect(tail).toMatchObject({
      seq: 3,
      run_id: run.id,
      thread_id: run.threadId,
      event: 'thread.message.delta',
    });
    expect(await bus.lastSeq(run.id)).toBe(3);
    expect(await bus.hasLog(run.id)).toBe(true);
    expect(await bus.hasLog(newId('run'))).toBe(false);
  });

  it('replays from inside an append: only the later events of its entry', async () => {
    const run = newRun();
    await bus.append(run, 1, [delta('a'), delta('b'), delta('c')]);
    await bus.append(run, 4, [delta('d')]);
    expect((await bus.read(run.id, 1)).map((item) => [item.seq, textOf(item)])).toEqual([
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(await bus.read(run.id, 4)).toEqual([]);
  });

  it('refuses an append that does not come after the log, and publishes nothing of it', async () => {
    const run = newRun();
    await bus.append(run, 1, [delta('a'), delta('b')]);
    const received: RunEvent[] = [];
    await subscriber.subscribe(
      bus.channel(run.id),
      (message) => received.push(...parseRunEvents(message)),
      'sharded',
    );
    await expect(bus.append(run, 2, [delta('stale')])).rejects.toThrow(/equal or smaller/);
    await bus.append(run, 3, [delta('c')]);
    await expect.poll(() => received.map((item) => item.seq)).toEqual([3]);
    expect((await bus.read(run.id)).map(textOf)).toEqual(['a', 'b', 'c']);
  });

  it('publishes the events of one append as one message on the run channel', async () => {
    const run = newRun();
    const received: RunEvent[][] = [];
    const arrived = new Promise<void>((resolve) => {
      void subscriber.subscribe(
        bus.channel(run.id),
        (message) => {
          received.push(parseRunEvents(message));
          resolve();
        },
        'sharded',
      );
    });
    await new Promise((resolve) => setImmediate(resolve));
    await subscriber.subscribe(bus.channel(run.id), () => {}, 'sharded');
    await bus.append(run, 1, [delta('a "quoted" \n value'), delta('b')]);
    await arrived;
    expect(received).toHaveLength(1);
    expect(received[0]?.map((item) => [item.seq, textOf(item)])).toEqual([
      [1, 'a "quoted" \n value'],
      [2, 'b'],
    ]);
  });

  it('gives the text of an answer as its clients received it, from its deltas in the log', async () => {
    const run = newRun();
    await bus.append(run, 1, [delta('Hel'), messageTextDelta('msg_other', 'x')]);
    await bus.append(run, 3, [delta('lo')]);
    expect(await bus.answerText(run.id, 'msg_1')).toBe('Hello');
    expect(await bus.answerText(run.id, 'msg_none')).toBe('');
  });

  it('refuses ids that could break the envelope', async () => {
    await expect(bus.append({ id: 'run_"x', threadId: newId('thread') }, 1, [delta('a')])).rejects.toThrow(
      /Unsafe/,
    );
  });
});

describe('RunEventWriter', () => {
  it('continues after the seq it was given and says what a write must store', async () => {
    const run = newRun();
    await bus.append(run, 1, [delta('a'), delta('b')]);
    const writer = new RunEventWriter(bus, run, 2);
    expect(writer.seqAfter([delta('c'), delta('d')])).toBe(4);
    const first = writer.append([delta('c')]);
    const second = writer.append([delta('d')]);
    await Promise.all([first, second]);
    expect(writer.lastSeq).toBe(4);
    expect((await bus.read(run.id)).map((item) => [item.seq, textOf(item)])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });
});

describe('parseRunEvents', () => {
  it('refuses an event name outside the contract', () => {
    const raw = JSON.stringify([
      { seq: 1, run_id: 'run_1', thread_id: 'thread_1', event: 'thread.bogus', data: {} },
    ]);
    expect(() => parseRunEvents(raw)).toThrow();
  });
});
