// Listens on a run's control channel while a worker holds the run, and aborts its model call on cancel.
import type { ChannelSubscriber, EventBus } from '@threadwork/shared';

export interface CancelWatch {
  signal: AbortSignal;
  stop(): Promise<void>;
}

export async function watchCancel(
  subscriber: ChannelSubscriber,
  events: EventBus,
  runId: string,
): Promise<CancelWatch> {
  const controller = new AbortController();
  const unsubscribe = await subscriber.subscribe(events.controlChannel(runId), (message) => {
    if (message === 'cancel') controller.abort(new Error('run cancelled'));
  });
  return { signal: controller.signal, stop: unsubscribe };
}
