// Watches the run event bus for run endings: one pattern subscription, so no ending is missed, and no load on the API.
import { Redis } from 'ioredis';

const endingEvent = /"event":"thread\.run\.(completed|failed|cancelled|expired|incomplete)"/;

interface Waiter {
  resolve: (status: string) => void;
  timer: NodeJS.Timeout;
}

export class CompletionWatcher {
  private readonly ended = new Map<string, string>();
  private readonly waiters = new Map<string, Waiter>();

  private constructor(
    private readonly redis: Redis,
    private readonly channelPrefix: string,
  ) {
    redis.on('pmessage', (_pattern: string, channel: string, message: string) =>
      this.onMessage(channel, message),
    );
  }

  /** Subscribes to every run channel of a QUEUE_PREFIX (the channel names are EventBus.channel's). */
  static async start(redisUrl: string, prefix: string): Promise<CompletionWatcher> {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const channelPrefix = `${prefix}:run-events:`;
    await redis.psubscribe(`${channelPrefix}*`);
    return new CompletionWatcher(redis, channelPrefix);
  }

  private onMessage(channel: string, message: string): void {
    // A message is one append's events; an ending is found without parsing JSON.
    const status = endingEvent.exec(message)?.[1];
    if (!status) return;
    const runId = channel.slice(this.channelPrefix.length);
    const waiter = this.waiters.get(runId);
    if (!waiter) {
      this.ended.set(runId, status);
      return;
    }
    this.waiters.delete(runId);
    clearTimeout(waiter.timer);
    waiter.resolve(status);
  }

  /** Resolves with the run's final status (it may have ended before this was called). */
  ending(runId: string, timeoutMs: number): Promise<string> {
    const status = this.ended.get(runId);
    if (status) {
      this.ended.delete(runId);
      return Promise.resolve(status);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(runId);
        resolve('timed_out');
      }, timeoutMs);
      this.waiters.set(runId, { resolve, timer });
    });
  }

  close(): void {
    for (const waiter of this.waiters.values()) clearTimeout(waiter.timer);
    this.redis.disconnect();
  }
}
