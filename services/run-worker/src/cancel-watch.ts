// Cancel signals for the runs this worker holds: one pattern subscription per process on every run's control
// channel, an AbortController per held run, and a short memory of cancels that arrived just before a watch began.
import type { ChannelSubscriber, EventBus } from '@threadwork/shared';

export interface CancelWatch {
  signal: AbortSignal;
  stop(): void;
}

const REMEMBER_CANCEL_MS = 60_000;

export class CancelSignals {
  private readonly held = new Map<string, AbortController>();
  private readonly early = new Map<string, number>();

  private constructor(private readonly now: () => number) {}

  static async start(
    subscriber: ChannelSubscriber,
    events: EventBus,
    now = Date.now,
  ): Promise<CancelSignals> {
    const signals = new CancelSignals(now);
    const prefix = events.controlChannel('');
    await subscriber.subscribePattern(`${prefix}*`, (channel, message) => {
      if (message === 'cancel') signals.cancel(channel.slice(prefix.length));
    });
    return signals;
  }

  /** Watches a run while this worker holds it; a cancel that came moments before is honoured at once. */
  watch(runId: string): CancelWatch {
    const controller = new AbortController();
    this.held.set(runId, controller);
    if (this.early.delete(runId)) controller.abort(new Error('run cancelled'));
    return {
      signal: controller.signal,
      stop: () => {
        if (this.held.get(runId) === controller) this.held.delete(runId);
      },
    };
  }

  private cancel(runId: string): void {
    const controller = this.held.get(runId);
    if (controller) {
      controller.abort(new Error('run cancelled'));
      return;
    }
    this.forgetOld();
    this.early.set(runId, this.now());
  }

  private forgetOld(): void {
    const oldest = this.now() - REMEMBER_CANCEL_MS;
    for (const [runId, at] of this.early) {
      if (at >= oldest) break;
      this.early.delete(runId);
    }
  }
}
