// Waiting for a run to stop (ended, or waiting on client tool outputs) by following its events, with a deadline.
import { isFinalRunEvent } from '@threadwork/shared';
import type { RunFeed } from '../../sse/run-feed.js';

export type WaitOutcome = 'stopped' | 'timeout' | 'aborted';

export interface WaitOptions {
  timeoutMs: number;
  /** Aborted when the client goes away: the run goes on, only the waiting stops. */
  signal?: AbortSignal;
  /** Checked once the feed follows the run, for a run whose events are gone from Redis. */
  hasStopped?: () => Promise<boolean>;
}

/** Resolves when a final run event with seq > afterSeq arrives, the deadline passes, or the signal aborts. */
export async function waitForRunStop(
  feed: RunFeed,
  run: { id: string; eventSeq: number },
  afterSeq: number,
  options: WaitOptions,
): Promise<WaitOutcome> {
  if (options.signal?.aborted) return 'aborted';
  let settle: (outcome: WaitOutcome) => void = () => {};
  const outcome = new Promise<WaitOutcome>((resolve) => {
    settle = resolve;
  });
  const timer = setTimeout(() => settle('timeout'), options.timeoutMs);
  const { id: runId, eventSeq: storedSeq } = run;
  const onAbort = () => settle('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let stop: (() => void) | null = null;
  try {
    stop = await feed.follow(runId, afterSeq, storedSeq, {
      onEvent: (event) => {
        if (isFinalRunEvent(event)) settle('stopped');
      },
      // Its events are gone: whether it stopped is read from Postgres.
      onBroken: () => {
        void options.hasStopped?.().then((stopped) => settle(stopped ? 'stopped' : 'timeout'));
      },
    });
    if (await options.hasStopped?.()) settle('stopped');
    return await outcome;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    stop?.();
  }
}
