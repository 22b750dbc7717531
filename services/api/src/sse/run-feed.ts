// Replays a run's events from Redis and then follows them live, over one subscriber connection per process.
import { type ChannelSubscriber, type EventBus, parseEnvelope, type RunEvent } from '@threadwork/shared';

export type RunEventListener = (event: RunEvent) => void;

export class RunFeed {
  private readonly listeners = new Map<string, Set<RunEventListener>>();
  private readonly unsubscribes = new Map<string, Promise<() => Promise<void>>>();

  constructor(
    private readonly events: EventBus,
    private readonly subscriber: ChannelSubscriber,
  ) {}

  /** Delivers every event with seq > afterSeq exactly once and in order; answers a function that stops it. */
  async follow(runId: string, afterSeq: number, onEvent: RunEventListener): Promise<() => void> {
    let last = afterSeq;
    let buffered: RunEvent[] | null = [];
    const deliver = (event: RunEvent) => {
      if (event.seq <= last) return;
      last = event.seq;
      onEvent(event);
    };
    const listener: RunEventListener = (event) => {
      if (buffered) buffered.push(event);
      else deliver(event);
    };
    await this.addListener(runId, listener);
    try {
      for (const event of await this.events.read(runId, afterSeq)) deliver(event);
    } catch (error) {
      this.removeListener(runId, listener);
      throw error;
    }
    const pending = buffered;
    buffered = null;
    for (const event of pending.sort((a, b) => a.seq - b.seq)) deliver(event);
    return () => this.removeListener(runId, listener);
  }

  get followedRuns(): number {
    return this.listeners.size;
  }

  private async addListener(runId: string, listener: RunEventListener): Promise<void> {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
      const current = set;
      this.unsubscribes.set(
        runId,
        this.subscriber.subscribe(this.events.channel(runId), (raw) => {
          const event = parseEnvelope(raw);
          for (const each of current) each(event);
        }),
      );
    }
    set.add(listener);
    await this.unsubscribes.get(runId);
  }

  private removeListener(runId: string, listener: RunEventListener): void {
    const set = this.listeners.get(runId);
    if (!set?.delete(listener) || set.size > 0) return;
    this.listeners.delete(runId);
    const unsubscribe = this.unsubscribes.get(runId);
    this.unsubscribes.delete(runId);
    void unsubscribe?.then((stop) => stop());
  }
}
