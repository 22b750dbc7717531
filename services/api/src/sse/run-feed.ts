// Replays a run's events from Redis and then follows them live, over one subscriber connection per process.
import {
  type ChannelSubscriber,
  type EventBus,
  newId,
  parseRunEvents,
  type RunEvent,
} from '@threadwork/shared';

export type RunEventListener = (event: RunEvent) => void;

/**
 * A run that is followed (subscribed, history read) but whose events are held until `start`, so a caller can do
 * its fallible steps first and lose nothing meanwhile.
 */
export interface HeldRun {
  /** Sends the held events, lets go of the list they waited in, and sends later ones as they come. */
  start(onEvent: RunEventListener): void;
  /** Unsubscribes; nothing is sent after this, held or live. */
  stop(): void;
}

function bySeq(a: RunEvent, b: RunEvent): number {
  return a.seq - b.seq;
}

/**
 * One follower's order: the history and the live events that arrive around it are held as they come, then put in
 * order at `start`, and each seq after `last` goes out once. Thousands are open at once, so this one object is
 * all a follower keeps.
 */
class RunFollower implements HeldRun {
  private held: RunEvent[] | null = [];
  private onEvent: RunEventListener | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private last: number) {}

  async subscribe(subscriber: ChannelSubscriber, channel: string): Promise<void> {
    const unsubscribe = await subscriber.subscribe(channel, (raw) => {
      for (const event of parseRunEvents(raw)) this.receive(event);
    });
    // Stopped while the subscription was on its way (a run that could not be created).
    if (this.held === null && this.onEvent === null) void unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  holdHistory(history: RunEvent[]): void {
    if (this.held) this.held = history.concat(this.held);
  }

  start(onEvent: RunEventListener): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.onEvent = onEvent;
    for (const event of held.sort(bySeq)) this.deliver(event);
  }

  stop(): void {
    this.held = null;
    this.onEvent = null;
    void this.unsubscribe?.();
  }

  private receive(event: RunEvent): void {
    if (this.held) this.held.push(event);
    else this.deliver(event);
  }

  private deliver(event: RunEvent): void {
    if (event.seq <= this.last) return;
    this.last = event.seq;
    this.onEvent?.(event);
  }
}

/** A run followed before any event of it is appended. */
export interface NewRunHold {
  held: HeldRun;
  /** Resolves once Redis confirmed the subscription: the run's first events must not be appended before. */
  listening: Promise<void>;
}

export class RunFeed {
  constructor(
    private readonly events: EventBus,
    private readonly subscriber: ChannelSubscriber,
  ) {}

  /**
   * Subscribes and reads the history, so a failure surfaces here (with the subscription released), and holds
   * every event with seq > afterSeq until `start`, which delivers each exactly once and in order.
   */
  async hold(runId: string, afterSeq: number): Promise<HeldRun> {
    const follower = new RunFollower(afterSeq);
    await follower.subscribe(this.subscriber, this.events.channel(runId));
    try {
      follower.holdHistory(await this.events.read(runId, afterSeq));
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
    const follower = new RunFollower(0);
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
  async follow(runId: string, afterSeq: number, onEvent: RunEventListener): Promise<() => void> {
    const run = await this.hold(runId, afterSeq);
    run.start(onEvent);
    return () => run.stop();
  }
}
