// The run event bus: the events of one append are one entry of a per-run Redis stream and one message on the run's
// channel, written in one round trip; readers replay the stream and then follow the channel.
import type { Redis } from 'ioredis';
import { z } from 'zod';

export interface RunEvent {
  seq: number;
  run_id: string;
  thread_id: string;
  event: string;
  data: unknown;
}

export const runEventSchema = z.object({
  seq: z.number().int().positive(),
  run_id: z.string(),
  thread_id: z.string(),
  event: z.string(),
  data: z.unknown(),
});

export interface NewRunEvent {
  event: string;
  data: unknown;
}

export interface EventBusOptions {
  prefix: string;
  maxLength: number;
  ttlSeconds: number;
  /**
   * Appends made in one turn of the event loop leave in one socket write (for a connection of the bus's own, whose
   * appends come from many runs at once). None waits for the replies of earlier ones.
   */
  shareWrites?: boolean;
}

/** The internal event that carries product cards shown by `show_products`: `{ step_id, products }`. */
export const PRODUCTS_EVENT = 'threadwork.products';

/** Events that end one Assistants stream: the SDK treats these run events as final. */
export const finalRunEvents = new Set([
  'thread.run.requires_action',
  'thread.run.completed',
  'thread.run.incomplete',
  'thread.run.failed',
  'thread.run.cancelled',
  'thread.run.expired',
]);

/**
 * KEYS: stream, seq counter. ARGV: channel, maxlen, ttl, run_id, thread_id, then (event, data) pairs. The events
 * become one JSON array of envelopes: one stream entry, whose id is the last seq in it, and one message.
 */
const appendScript = `
local count = (#ARGV - 5) / 2
local last = redis.call('INCRBY', KEYS[2], count)
local seq = last - count
local envelopes = {}
for i = 6, #ARGV, 2 do
  seq = seq + 1
  envelopes[#envelopes + 1] = '{"seq":' .. seq .. ',"run_id":"' .. ARGV[4] .. '","thread_id":"' .. ARGV[5] ..
    '","event":"' .. ARGV[i] .. '","data":' .. ARGV[i + 1] .. '}'
end
local batch = '[' .. table.concat(envelopes, ',') .. ']'
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], last .. '-1', 'e', batch)
redis.call('PUBLISH', ARGV[1], batch)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return last - count + 1
`;

const safeToken = /^[A-Za-z0-9_.-]+$/;

/** Holds a connection's writes until the event loop has run the callbacks at hand, then sends them as one. */
class TickWrites {
  private held: Redis['stream'] | null = null;

  constructor(private readonly redis: Redis) {}

  hold(): void {
    if (this.held || this.redis.status !== 'ready') return;
    const socket = this.redis.stream;
    socket.cork();
    this.held = socket;
    setImmediate(() => this.release());
  }

  /** Sends what is held now. */
  release(): void {
    const socket = this.held;
    this.held = null;
    socket?.uncork();
  }
}

export interface AppendOptions {
  /** Sent at once with what waits before it, not at the end of the event-loop turn (a first token, an ending). */
  atOnce?: boolean;
}

export class EventBus {
  private readonly writes: TickWrites | null;

  constructor(
    private readonly redis: Redis,
    private readonly options: EventBusOptions,
  ) {
    redis.defineCommand('twAppendRunEvents', { numberOfKeys: 2, lua: appendScript });
    this.writes = options.shareWrites ? new TickWrites(redis) : null;
  }

  streamKey(runId: string): string {
    return `${this.options.prefix}:run:{${runId}}:events`;
  }

  private seqKey(runId: string): string {
    return `${this.options.prefix}:run:{${runId}}:seq`;
  }

  channel(runId: string): string {
    return `${this.options.prefix}:run-events:${runId}`;
  }

  controlChannel(runId: string): string {
    return `${this.options.prefix}:run-control:${runId}`;
  }

  /** Appends events in order and publishes them as one message; answers the seq of the first. */
  async append(
    runId: string,
    threadId: string,
    events: NewRunEvent[],
    options: AppendOptions = {},
  ): Promise<number> {
    if (events.length === 0) return 0;
    for (const id of [runId, threadId, ...events.map((item) => item.event)]) {
      if (!safeToken.test(id)) throw new Error(`Unsafe token in run event: ${id}`);
    }
    const pairs = events.flatMap((item) => [item.event, JSON.stringify(item.data)]);
    const command = (
      this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<number>>
    ).twAppendRunEvents;
    if (!command) throw new Error('twAppendRunEvents is not defined on this connection');
    this.writes?.hold();
    const appended = command.call(
      this.redis,
      this.streamKey(runId),
      this.seqKey(runId),
      this.channel(runId),
      this.options.maxLength,
      this.options.ttlSeconds,
      runId,
      threadId,
      ...pairs,
    );
    if (options.atOnce) this.writes?.release();
    return appended;
  }

  /** The events of a run with seq greater than `afterSeq`, in order. */
  async read(runId: string, afterSeq = 0): Promise<RunEvent[]> {
    // An entry's id is the last seq it holds: the first entry read may begin at or before afterSeq.
    const entries = await this.redis.xrange(this.streamKey(runId), `${afterSeq + 1}-0`, '+');
    return entries
      .flatMap(([, fields]) => parseRunEvents(fields[1] ?? ''))
      .filter((event) => event.seq > afterSeq);
  }

  /** The seq of the last event appended for a run (0 when none). */
  async lastSeq(runId: string): Promise<number> {
    const value = await this.redis.get(this.seqKey(runId));
    return value === null ? 0 : Number(value);
  }

  async publishCancel(runId: string): Promise<void> {
    await this.redis.publish(this.controlChannel(runId), 'cancel');
  }
}

const runEventsSchema = z.array(runEventSchema);

/** The events of one stream entry or channel message, in order (an entry of one envelope, as once written, too). */
export function parseRunEvents(raw: string): RunEvent[] {
  const parsed: unknown = JSON.parse(raw);
  return runEventsSchema.parse(Array.isArray(parsed) ? parsed : [parsed]) as RunEvent[];
}
