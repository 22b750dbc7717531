// One Redis subscriber connection per process (on a cluster: one per master for sharded channels), shared by every
// local listener of a channel.
import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis.js';

export type ChannelListener = (message: string) => void;
export type PatternListener = (channel: string, message: string) => void;

/**
 * `broadcast` channels (SUBSCRIBE) reach every subscriber of the deployment, on a cluster through every node;
 * `sharded` channels (SSUBSCRIBE, Redis 7) live on the one node that owns their slot, so a cluster does not copy
 * their messages to every node: the run event channels, which carry most of the traffic.
 */
export type ChannelKind = 'broadcast' | 'sharded';

export class ChannelSubscriber {
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  private readonly kinds = new Map<string, ChannelKind>();
  private readonly pending = new Map<string, Promise<unknown>>();

  private readonly patterns = new Map<string, PatternListener>();
  private readonly reconnectListeners = new Set<() => void>();
  private wasReady: boolean;

  constructor(private readonly redis: RedisConnection) {
    this.wasReady = redis.status === 'ready';
    // ioredis subscribes again by itself; what was published in between is lost, which listeners must hear.
    const reconnected = () => {
      if (this.wasReady) for (const listener of this.reconnectListeners) listener();
      this.wasReady = true;
    };
    redis.on('ready', reconnected);
    // A cluster replaces a sharded subscriber whose master it lost (and starts one per master: a catch-up that
    // finds nothing missed costs one log read). A message lost after the catch-up is a gap the next event shows.
    if (redis instanceof Cluster) redis.on('+subscriber', reconnected);
    const deliver = (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    };
    redis.on('message', deliver);
    redis.on('smessage', deliver);
    redis.on('pmessage', (pattern: string, channel: string, message: string) => {
      this.patterns.get(pattern)?.(channel, message);
    });
  }

  /**
   * Resolves once the connection is ready. ioredis writes a SUBSCRIBE as soon as the socket is connected, before its
   * ready check; the check then fails in subscriber mode and the connection is dropped with the subscription.
   * Unlike `waitForRedis` (start-up), this waits as long as Redis takes to come back, as a worker connection does.
   */
  private ready(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  /** Listens on every channel matching a glob pattern, for as long as the process runs (one listener a pattern). */
  async subscribePattern(pattern: string, listener: PatternListener): Promise<void> {
    if (this.patterns.has(pattern)) throw new Error(`pattern ${pattern} already has a listener`);
    this.patterns.set(pattern, listener);
    await this.ready();
    await this.redis.psubscribe(pattern);
  }

  /**
   * Starts listening; the returned promise resolves once Redis confirmed the subscription. A confirmation is kept
   * only while it is pending, so later listeners of a confirmed channel do not wait and nothing stays per channel.
   */
  async subscribe(
    channel: string,
    listener: ChannelListener,
    kind: ChannelKind = 'broadcast',
  ): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.kinds.set(channel, kind);
    }
    set.add(listener);
    const unsubscribe = () => this.unsubscribe(channel, listener);
    if (set.size === 1) {
      // Not sent when every listener left while the connection was getting ready.
      const subscribed = this.ready().then(
        () =>
          this.listeners.has(channel) &&
          (kind === 'sharded' ? this.redis.ssubscribe(channel) : this.redis.subscribe(channel)),
      );
      this.pending.set(channel, subscribed);
    }
    const confirmation = this.pending.get(channel);
    try {
      await confirmation;
    } catch (error) {
      await unsubscribe();
      throw error;
    } finally {
      if (this.pending.get(channel) === confirmation) this.pending.delete(channel);
    }
    return unsubscribe;
  }

  private async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    const current = this.listeners.get(channel);
    if (!current?.delete(listener)) return;
    if (current.size > 0) return;
    this.listeners.delete(channel);
    this.pending.delete(channel);
    const kind = this.kinds.get(channel);
    this.kinds.delete(channel);
    if (kind === 'sharded') await this.redis.sunsubscribe(channel);
    else await this.redis.unsubscribe(channel);
  }

  /** Called each time the connection is ready again after it was lost. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  get channelCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.kinds.clear();
    this.patterns.clear();
    this.redis.disconnect();
  }
}
