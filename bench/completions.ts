// Watches the run event bus for run endings, with no load on the API: a run's sharded channel is followed from the
// moment the bench learns its id, and its log tells an ending that came before that.
import { ChannelSubscriber, createRedis, type RedisConnection, type RedisTarget } from '@threadwork/shared';

const endingEvent = /"event":"thread\.run\.(completed|failed|cancelled|expired|incomplete)"/;

export class CompletionWatcher {
  private constructor(
    private readonly redis: RedisConnection,
    private readonly subscriber: ChannelSubscriber,
    private readonly prefix: string,
  ) {}

  /** Follows the runs of a QUEUE_PREFIX (the channel and log names are EventBus.channel's and streamKey's). */
  static async start(target: RedisTarget | string, prefix: string): Promise<CompletionWatcher> {
    const where = typeof target === 'string' ? { url: target } : target;
    const redis = createRedis(where, 'worker', 'bench-completions');
    const subscriber = new ChannelSubscriber(createRedis(where, 'subscriber', 'bench-completions-sub'));
    return new CompletionWatcher(redis, subscriber, prefix);
  }

  /** Resolves with the run's final status (it may have ended before this was called), or `timed_out`. */
  async ending(runId: string, timeoutMs: number): Promise<string> {
    let settle: (status: string) => void = () => {};
    const settled = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const unsubscribe = await this.subscriber.subscribe(
      `${this.prefix}:run-events:{${runId}}`,
      (message) => {
        const status = endingEvent.exec(message)?.[1];
        if (status) settle(status);
      },
      'sharded',
    );
    const timer = setTimeout(() => settle('timed_out'), timeoutMs);
    const [last] = await this.redis.xrevrange(`${this.prefix}:run:{${runId}}:events`, '+', '-', 'COUNT', 1);
    const logged = endingEvent.exec(last?.[1][1] ?? '')?.[1];
    if (logged) settle(logged);
    const status = await settled;
    clearTimeout(timer);
    await unsubscribe();
    return status;
  }

  close(): void {
    void this.subscriber.close();
    this.redis.disconnect();
  }
}
