// Replays a run's events from Redis and then follows them live, over one subscriber connection per process. A
// follower that finds a gap in the seqs (the log was flushed, messages were lost while the connection was down), or
// whose run stopped with events stored that were never published (its worker died in between), is told its stream
// cannot continue, so no client waits for events that will never come.
import {
  type ChannelSubscriber,
  type EventBus,
  type Logger,
  newId,
  parseRunEvents,
  type RunEvent,
} from '@threadwork/shared';

export type RunEventListener = (event: RunEvent) => void;

/** How far runs have got as Postgres has them: the seq of each one's last stored event, and whether it stopped. */
export type StoredProgress = (
  runIds: string[],
) => Promise<ReadonlyMap<string, { eventSeq: number; hasStopped: boolean }>>;

/**
 * The shortest silence after which a run is looked at: a live worker publishes a stored ending within milliseconds,
 * so one that has not after this long died in between, however short the heartbeat.
 */
const SHORTEST_SILENCE_MS = 2_000;

/** The most followers one look at Postgres takes; the others are looked at in the next ones. */
const SILENT_RUNS_PER_LOOK = 1000;

/** Why a followed run's events cannot continue. */
export type BrokenFeed = 'events_lost';

export interface FeedListener {
  onEvent: RunEventListener;
  /** The run's events cannot continue in order: the stream must end (the client may resume later). */
  onBroken(reason: BrokenFeed): void;
}

/**
 * A run that is followed (subscribed, history read) but whose events are held until `start`, so a caller can do
 * its fallible steps first and lose nothing meanwhile.
 */
export interface HeldRun {
  /** Sends the held events, lets go of the list they waited in, and sends later ones as they come. */
  start(listener: FeedListener): void;
  /** Unsubscribes; nothing is sent after this, held or live. */
  stop(): void;
}

function bySeq(a: RunEvent, b: RunEvent): number {
  return a.seq - b.seq;
}

/**
 * One follower's order: the history and the live events that arrive around it are held as they come, then put in
 * order at `start`, and each seq after `last` goes out once; a seq past the next one is a gap. Thousands are open
 * at once, so this one object is all a follower keeps.
 */
class RunFollower implements HeldRun {
  private held: RunEvent[] | null = [];
  private listener: FeedListener | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private isBroken = false;
  /** When it last heard of its run: an event, or a look at the run in Postgres (ms, monotonic clock). */
  private heardAt = performance.now();

  constructor(
    readonly runId: string,
    private last: number,
    private readonly onStop: (follower: RunFollower) => void,
  ) {}

  get lastSeq(): number {
    return this.last;
  }

  /** Whether it streams to a client and has heard nothing of its run since `since`. */
  isSilentSince(since: number): boolean {
    return this.listener !== null && !this.isBroken && this.heardAt <= since;
  }

  markHeard(): void {
    this.heardAt = performance.now();
  }

  async subscribe(subscriber: ChannelSubscriber, channel: string): Promise<void> {
    const unsubscribe = await subscriber.subscribe(
      channel,
      (raw) => {
        for (const event of parseRunEvents(raw)) this.receive(event);
      },
      'sharded',
    );
    // Stopped while the subscription was on its way (a run that could not be created).
    if (this.held === null && this.listener === null) void unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  holdHistory(history: RunEvent[]): void {
    if (this.held) this.held = history.concat(this.held);
  }

  start(listener: FeedListener): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.listener = listener;
    if (this.isBroken) {
      listener.onBroken('events_lost');
      return;
    }
    for (const event of held.sort(bySeq)) this.deliver(event);
  }

  stop(): void {
    this.held = null;
    this.listener = null;
    this.onStop(this);
    void this.unsubscribe?.();
  }

  receive(event: RunEvent): void {
    if (this.held) this.held.push(event);
    else this.deliver(event);
  }

  /** The events after `last` cannot all be had any more. */
  breakOff(): void {
    if (this.isBroken) return;
    this.isBroken = true;
    this.listener?.onBroken('events_lost');
  }

  private deliver(event: RunEvent): void {
    if (this.isBroken || event.seq <= this.last) return;
    if (event.seq > this.last + 1) {
      this.breakOff();
      return;
    }
    this.last = event.seq;
    this.heardAt = performance.now();
    this.listener?.onEvent(event);
  }
}

/** A run followed before any event of it is appended. */
export interface NewRunHold {
  held: HeldRun;
  /** Resolves once Redis confirmed the subscription: the run's first events must not be appended before. */
  listening: Promise<void>;
}

export class RunFeed {
  private readonly followers = new Set<RunFollower>();

  constructor(
    private readonly events: EventBus,
    private readonly subscriber: ChannelSubscriber,
  ) {
    // Messages published while the connection was down are gone: each follower reads what it missed from the log.
    subscriber.onReconnect(() => {
      for (const follower of this.followers) void this.catchUp(follower);
    });
  }

  private follower(runId: string, afterSeq: number): RunFollower {
    const follower = new RunFollower(runId, afterSeq, (stopped) => this.followers.delete(stopped));
    this.followers.add(follower);
    return follower;
  }

  /**
   * Subscribes and reads the history, so a failure surfaces here (with the subscription released), and holds
   * every event with seq > afterSeq until `start`, which delivers each exactly once and in order. `storedSeq` is the
   * run's seq as Postgres has it: a history that does not reach back to afterSeq + 1 while the run had events after
   * it has lost them.
   */
  async hold(runId: string, afterSeq: number, storedSeq: number): Promise<HeldRun> {
    const follower = this.follower(runId, afterSeq);
    await follower.subscribe(this.subscriber, this.events.channel(runId));
    try {
      const history = await this.events.read(runId, afterSeq);
      const first = history[0]?.seq ?? Number.POSITIVE_INFINITY;
      if (storedSeq > afterSeq && first > afterSeq + 1) follower.breakOff();
      follower.holdHistory(history);
    } catch (error) {
      follower.stop();
      throw error;
    }
    return follower;
  }

  /**
   * Follows a run that is being created: subscribes at once, while the caller writes the run, and holds its events
   * until `start`. They are appended only after `listening`, so all of them arrive live and none is read back.
   */
  holdNew(runId: string): NewRunHold {
    const follower = this.follower(runId, 0);
    const listening = follower.subscribe(this.subscriber, this.events.channel(runId));
    // Awaited before the run's first events are appended, which reports a failure.
    listening.catch(() => undefined);
    return { held: follower, listening };
  }

  /**
   * Creates a run whose stream listens from before its first event (`holdNew`): `create` gets the run's id and must
   * append the first events only once `listening` resolves. A run that cannot be made leaves no subscription behind.
   */
  async createHeld<T>(
    create: (stream: { runId: string; listening: Promise<void> }) => Promise<T>,
  ): Promise<{ created: T; held: HeldRun }> {
    const runId = newId('run');
    const { held, listening } = this.holdNew(runId);
    try {
      return { created: await create({ runId, listening }), held };
    } catch (error) {
      held.stop();
      throw error;
    }
  }

  /** Delivers every event with seq > afterSeq exactly once and in order; answers a function that stops it. */
  async follow(
    runId: string,
    afterSeq: number,
    storedSeq: number,
    listener: FeedListener,
  ): Promise<() => void> {
    const run = await this.hold(runId, afterSeq, storedSeq);
    run.start(listener);
    return () => run.stop();
  }

  /**
   * Every heartbeat (at least every 2 s), looks in Postgres at the runs whose followers heard nothing for that long.
   * A run that stopped with events stored past the last one its follower heard had them stored by a worker that died
   * before publishing them: the follower reads the log once more and, when they are not there either, is told its
   * stream cannot continue (a client resumes from Postgres, or retrieves the run). So is the follower of a run that
   * is gone.
   * Answers the function that stops looking.
   */
  watchSilentRuns(heartbeatMs: number, readStored: StoredProgress, log: Logger): () => void {
    const silenceMs = Math.max(heartbeatMs, SHORTEST_SILENCE_MS);
    let isLooking = false;
    const look = async () => {
      const silent = this.silentFollowers(performance.now() - silenceMs);
      if (silent.length === 0) return;
      const stored = await readStored([...new Set(silent.map((follower) => follower.runId))]);
      await Promise.all(
        silent.map(async (follower) => {
          follower.markHeard();
          const run = stored.get(follower.runId);
          if (run && (!run.hasStopped || run.eventSeq <= follower.lastSeq)) return;
          if (run) await this.catchUp(follower);
          if (!run || follower.lastSeq < run.eventSeq) follower.breakOff();
        }),
      );
    };
    const timer = setInterval(() => {
      if (isLooking) return;
      isLooking = true;
      look()
        .catch((error: unknown) => log.warn({ err: error }, 'could not look at silent runs'))
        .finally(() => {
          isLooking = false;
        });
    }, silenceMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private silentFollowers(since: number): RunFollower[] {
    const silent: RunFollower[] = [];
    for (const follower of this.followers) {
      if (silent.length === SILENT_RUNS_PER_LOOK) break;
      if (follower.isSilentSince(since)) silent.push(follower);
    }
    return silent;
  }

  /** After a reconnection: the events the follower missed, from the log; a log that is gone cannot continue it. */
  private async catchUp(follower: RunFollower): Promise<void> {
    try {
      const [missed, hasLog] = await Promise.all([
        this.events.read(follower.runId, follower.lastSeq),
        this.events.hasLog(follower.runId),
      ]);
      if (!hasLog && follower.lastSeq > 0) {
        follower.breakOff();
        return;
      }
      for (const event of missed) follower.receive(event);
    } catch {
      follower.breakOff();
    }
  }
}
