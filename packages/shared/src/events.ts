// The run event bus: the events of one append are one entry of a per-run Redis stream and one message on the run's
// sharded channel, written in one round trip; readers replay the stream and then follow the channel. The writer
// numbers the events (from the run's durable seq in Postgres), so a Redis flush never makes a seq go backwards.
// Every key and channel of one run carries the run id as its hash tag: on a Redis Cluster they share one slot.
import { Cluster, type RedisConnection } from './redis.js';
import { type NewRunEvent, parseRunEvents, type RunEvent } from './run-events.js';

export interface EventBusOptions {
  prefix: string;
  maxLength: number;
  ttlSeconds: number;
  /** Told of each append once Redis took it (webhooks: the run's final events). It must not throw. */
  onAppended?: (run: EventRun, firstSeq: number, events: readonly NewRunEvent[]) => Promise<void>;
}

/** The run an append belongs to. */
export interface EventRun {
  id: string;
  threadId: string;
}

/**
 * KEYS: stream, channel (one slot). ARGV: maxlen, ttl, run_id, thread_id, first seq, then (event, data) pairs. The
 * events become one JSON array of envelopes: one stream entry, whose id is the last seq in it, and one message. A
 * stream whose top entry is at or past the first seq refuses the entry (XADD's own check), and nothing is published:
 * a writer that lost the run cannot interleave its events with the new holder's.
 */
const appendScript = `
local seq = tonumber(ARGV[5]) - 1
local envelopes = {}
for i = 6, #ARGV, 2 do
  seq = seq + 1
  envelopes[#envelopes + 1] = '{"seq":' .. seq .. ',"run_id":"' .. ARGV[3] .. '","thread_id":"' .. ARGV[4] ..
    '","event":"' .. ARGV[i] .. '","data":' .. ARGV[i + 1] .. '}'
end
local batch = '[' .. table.concat(envelopes, ',') .. ']'
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-1', 'e', batch)
redis.call('SPUBLISH', KEYS[2], batch)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return seq
`;

const safeToken = /^[A-Za-z0-9_.-]+$/;

type AppendCommand = (...args: (string | number)[]) => Promise<number>;

export class EventBus {
  constructor(
    private readonly redis: RedisConnection,
    private readonly options: EventBusOptions,
  ) {
    redis.defineCommand('twAppendRunEvents', { numberOfKeys: 2, lua: appendScript });
  }

  streamKey(runId: string): string {
    return `${this.options.prefix}:run:{${runId}}:events`;
  }

  /** The run's sharded channel (SSUBSCRIBE), in the slot of its stream. */
  channel(runId: string): string {
    return `${this.options.prefix}:run-events:{${runId}}`;
  }

  /**
   * Broadcast (SUBSCRIBE): the worker holding a run does not know it ahead, so each run worker listens to every run's
   * control channel through one pattern, and cancels are rare.
   */
  controlChannel(runId: string): string {
    return `${this.options.prefix}:run-control:${runId}`;
  }

  /** Appends events numbered from `firstSeq` and publishes them as one message. */
  async append(run: EventRun, firstSeq: number, events: readonly NewRunEvent[]): Promise<void> {
    if (events.length === 0) return;
    const command = (this.redis as unknown as Record<string, AppendCommand>).twAppendRunEvents;
    if (!command) throw new Error('twAppendRunEvents is not defined on this connection');
    await command.call(this.redis, ...this.appendArguments(run, firstSeq, events));
    await this.options.onAppended?.(run, firstSeq, events);
  }

  /**
   * Appends events, then calls `next`, whose Redis commands must run after the append (a run's job after its first
   * events). On one Redis server `next` is called at once, without waiting for the append's reply: the script goes
   * as EVAL, which Redis runs in the order sent (an EVALSHA refused as unknown after a SCRIPT FLUSH would be sent
   * again after `next`'s commands), and `next` sends its commands on this connection after it. On a cluster `next`
   * waits for the reply: its commands may go to another node.
   */
  async appendThen<T>(
    run: EventRun,
    firstSeq: number,
    events: readonly NewRunEvent[],
    next: () => Promise<T>,
  ): Promise<T> {
    if (events.length === 0 || this.redis instanceof Cluster) {
      await this.append(run, firstSeq, events);
      return next();
    }
    const appended = this.redis.eval(appendScript, 2, ...this.appendArguments(run, firstSeq, events));
    const [, result] = await Promise.all([appended, next()]);
    await this.options.onAppended?.(run, firstSeq, events);
    return result;
  }

  private appendArguments(run: EventRun, firstSeq: number, events: readonly NewRunEvent[]) {
    for (const token of [run.id, run.threadId]) {
      if (!safeToken.test(token)) throw new Error(`Unsafe token in run event: ${token}`);
    }
    return [
      this.streamKey(run.id),
      this.channel(run.id),
      this.options.maxLength,
      this.options.ttlSeconds,
      run.id,
      run.threadId,
      firstSeq,
      ...events.flatMap((item) => [item.event, JSON.stringify(item.data)]),
    ] as const;
  }

  /** The events of a run with seq greater than `afterSeq`, in order. */
  async read(runId: string, afterSeq = 0): Promise<RunEvent[]> {
    // An entry's id is the last seq it holds: the first entry read may begin at or before afterSeq.
    const entries = await this.redis.xrange(this.streamKey(runId), `${afterSeq + 1}-0`, '+');
    return entries
      .flatMap(([, fields]) => parseRunEvents(fields[1] ?? '[]'))
      .filter((event) => event.seq > afterSeq);
  }

  /** Whether the run's log exists (it is gone after a Redis flush, or an hour after the run's last event). */
  async hasLog(runId: string): Promise<boolean> {
    return (await this.redis.exists(this.streamKey(runId))) === 1;
  }

  /** The seq of the last event in a run's log (0 when the log is empty or gone). */
  async lastSeq(runId: string): Promise<number> {
    const [last] = await this.redis.xrevrange(this.streamKey(runId), '+', '-', 'COUNT', 1);
    return last ? Number(last[0].split('-')[0]) : 0;
  }

  /**
   * The text of an answer as the run's clients received it: its deltas in the run's log (the write-ahead record of
   * an answer whose worker stopped before storing it).
   */
  async answerText(runId: string, messageId: string): Promise<string> {
    const logged = await this.read(runId);
    return logged
      .flatMap((event) =>
        event.event === 'thread.message.delta' && event.data.id === messageId
          ? event.data.delta.content.map((part) => part.text.value)
          : [],
      )
      .join('');
  }

  async publishCancel(runId: string): Promise<void> {
    await this.redis.publish(this.controlChannel(runId), 'cancel');
  }
}

/**
 * Numbers the events of a run for the one actor that holds it: it starts after the run's durable seq (as its
 * holder read or wrote it) and each append takes the next seqs.
 */
export class RunEventWriter {
  private published: number;

  constructor(
    private readonly bus: EventBus,
    readonly run: EventRun,
    private last: number,
  ) {
    this.published = last;
  }

  /** The seq of the last event appended (or reserved) by this writer. */
  get lastSeq(): number {
    return this.last;
  }

  /**
   * The seq of the last event Redis confirmed (appends on one connection land in order). A holder's heartbeat
   * stores this one: a seq reserved by an append that never landed would leave its clients a gap.
   */
  get publishedSeq(): number {
    return this.published;
  }

  /** The seq the last of `events` will have: what a write that publishes them stores as the run's seq. */
  seqAfter(events: readonly unknown[]): number {
    return this.last + events.length;
  }

  async append(events: readonly NewRunEvent[]): Promise<void> {
    const first = this.last + 1;
    this.last += events.length;
    const last = this.last;
    await this.bus.append(this.run, first, events);
    this.published = Math.max(this.published, last);
  }
}
