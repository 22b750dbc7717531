// The SSE client process of the fan-out scenario: holds N streams on one API process open, then publishes
// timestamped events to their runs through the real event bus and times each until its frame arrives.
import { EventBus, messageTextDelta } from '@threadwork/shared';
import { Redis } from 'ioredis';
import { ApiClient } from './http-client.js';
import type { FromSseClients, ToSseClients } from './sse-protocol.js';
import { roundSummary, summarise } from './stats.js';

interface OpenStream {
  run: { id: string; threadId: string };
  /** The seq the next event appended to the run takes (after its creation's three events). */
  nextSeq: number;
  close: () => void;
}

interface RunData {
  id: string;
  thread_id: string;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const v1 = new ApiClient(`${env('BENCH_API_URL')}/v1`, env('BENCH_API_KEY'), { maxSockets: 20_000 });
const assistantId = env('BENCH_ASSISTANT_ID');
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const bus = new EventBus(redis, { prefix: env('BENCH_QUEUE_PREFIX'), maxLength: 1000, ttlSeconds: 3600 });
const streams: OpenStream[] = [];
const latencies: number[] = [];
let isMeasuring = false;

function send(message: FromSseClients): void {
  process.send?.(message);
}

function onDelta(data: string): void {
  if (!isMeasuring) return;
  const parsed = JSON.parse(data) as { delta: { content: Array<{ text: { value: string } }> } };
  const sentAt = Number(parsed.delta.content[0]?.text.value);
  if (Number.isFinite(sentAt)) latencies.push(performance.now() - sentAt);
}

/** Opens one stream: a new thread and run that no worker serves, so the stream stays open and idle. */
function openOne(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let run: RunData | null = null;
    let close: (() => void) | null = null;
    const timer = setTimeout(() => reject(new Error(`stream not open within ${timeoutMs} ms`)), timeoutMs);
    v1.stream(
      '/threads/runs',
      { assistant_id: assistantId, stream: true, thread: { messages: [{ role: 'user', content: 'Wait.' }] } },
      (event, data) => {
        if (event === 'thread.message.delta') onDelta(data);
        if (event === 'thread.run.created' && !run && close) {
          run = JSON.parse(data) as RunData;
          streams.push({ run: { id: run.id, threadId: run.thread_id }, nextSeq: 4, close });
          clearTimeout(timer);
          resolve();
        }
        return 'continue';
      },
      (closer) => {
        close = closer;
      },
    ).catch((error: unknown) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function openStreams(count: number, concurrency: number, timeoutMs: number): Promise<FromSseClients> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const deadline = started + timeoutMs;
  const opener = async () => {
    while (next < count && performance.now() < deadline) {
      next += 1;
      try {
        await openOne(30_000);
      } catch (error) {
        failed += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, opener));
  return {
    type: 'opened',
    open: streams.length,
    failed,
    seconds: (performance.now() - started) / 1000,
    firstError,
  };
}

/** Publishes `rate` events per second, spread over the open streams in turn, for `seconds`; then waits for stragglers. */
async function measure(rate: number, seconds: number): Promise<FromSseClients> {
  latencies.length = 0;
  isMeasuring = true;
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticks = Math.round((seconds * 1000) / tickMs);
  let sent = 0;
  const started = performance.now();
  const publishing: Promise<unknown>[] = [];
  for (let tick = 0; tick < ticks && streams.length > 0; tick += 1) {
    for (let index = 0; index < perTick; index += 1) {
      const stream = streams[sent % streams.length];
      if (!stream) break;
      sent += 1;
      const sentAt = performance.now();
      publishing.push(
        bus.append(stream.run, stream.nextSeq, [messageTextDelta('msg_bench', sentAt.toFixed(3))]),
      );
      stream.nextSeq += 1;
    }
    const wait = started + (tick + 1) * tickMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(publishing);
  const graceEnd = performance.now() + 5_000;
  while (latencies.length < sent && performance.now() < graceEnd)
    await new Promise((resolve) => setTimeout(resolve, 50));
  isMeasuring = false;
  return { type: 'measured', sent, received: latencies.length, delivery: roundSummary(summarise(latencies)) };
}

function closeAll(): void {
  for (const stream of streams.splice(0)) stream.close();
}

process.on('message', (message: ToSseClients) => {
  switch (message.type) {
    case 'open':
      void openStreams(message.count, message.concurrency, message.timeoutMs).then(send);
      return;
    case 'measure':
      void measure(message.rate, message.seconds).then(send);
      return;
    case 'close-all':
      closeAll();
      send({ type: 'closed' });
      return;
    case 'exit':
      closeAll();
      v1.close();
      redis.disconnect();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(1));
send({ type: 'ready' });
