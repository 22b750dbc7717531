// Replays a run's events from Redis and then follows them live, over one subscriber connection per process.
import { type ChannelSubscriber, type EventBus, parseEnvelope, type RunEvent } from '@threadwork/shared';

export type RunEventListener = (event: RunEvent) => void;

/** One follower's order: live events wait while the history is read, then each seq after `last` goes out once. */
class RunFollower {
  private buffered: RunEvent[] | null = [];

  constructor(
    private last: number,
    private readonly onEvent: RunEventListener,
  ) {}

  receive(event: RunEvent): void {
    if (this.buffered) this.buffered.push(event);
    else this.deliver(event);
  }

  catchUp(history: RunEvent[]): void {
    for (const event of history) this.deliver(event);
    const pending = this.buffered ?? [];
    this.buffered = null;
    for (const event of pending.sort((a, b) => a.seq - b.seq)) this.deliver(event);
  }

  private deliver(event: RunEvent): void {
    if (event.seq <= this.last) return;
    this.last = event.seq;
    this.onEvent(event);
  }
}

export class RunFeed {
  constructor(
    private readonly events: EventBus,
    private readonly subscriber: ChannelSubscriber,
  ) {}

  /** Delivers every event with seq > afterSeq exactly once and in order; answers a function that stops it. */
  async follow(runId: string, afterSeq: number, onEvent: RunEventListener): Promise<() => void> {
    const follower = new RunFollower(afterSeq, onEvent);
    const unsubscribe = await this.subscriber.subscribe(this.events.channel(runId), (raw) =>
      follower.receive(parseEnvelope(raw)),
    );
    try {
      follower.catchUp(await this.events.read(runId, afterSeq));
    } catch (error) {
      void unsubscribe();
      throw error;
    }
    return () => void unsubscribe();
  }
}
