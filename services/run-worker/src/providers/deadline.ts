// A per-attempt deadline: aborts the upstream request when nothing arrives for timeoutMs, the first byte included.
import { UpstreamFailure } from './failures.js';

export interface IdleDeadline {
  /** Aborts on the caller's cancel or on the deadline; give it to the HTTP request. */
  readonly signal: AbortSignal;
  /** Passes items through, re-arming the deadline for each; time spent by the consumer does not count. */
  watch<T>(items: AsyncIterable<T>): AsyncGenerator<T>;
  /** The error to report: a retryable timeout failure when the deadline fired, else the error itself. */
  explain(error: unknown): unknown;
  dispose(): void;
}

export function startIdleDeadline(timeoutMs: number, callerSignal: AbortSignal): IdleDeadline {
  const controller = new AbortController();
  let hasExpired = false;
  const expire = () => {
    hasExpired = true;
    controller.abort(new Error(`no data for ${timeoutMs} ms`));
  };
  const forwardCancel = () => controller.abort(callerSignal.reason);
  let timer = setTimeout(expire, timeoutMs);
  callerSignal.addEventListener('abort', forwardCancel, { once: true });
  if (callerSignal.aborted) forwardCancel();
  return {
    signal: controller.signal,
    async *watch(items) {
      for await (const item of items) {
        clearTimeout(timer);
        yield item;
        timer = setTimeout(expire, timeoutMs);
      }
    },
    explain(error) {
      if (!hasExpired) return error;
      return new UpstreamFailure(
        'server_error',
        `The model provider sent nothing for ${timeoutMs} ms.`,
        true,
      );
    },
    dispose() {
      clearTimeout(timer);
      callerSignal.removeEventListener('abort', forwardCancel);
    },
  };
}
