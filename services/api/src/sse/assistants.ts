// The Assistants SSE dialect: OpenAI's event names and payloads, ending after the final run event with [DONE].

import { finalRunEvents, PRODUCTS_EVENT, type RunEvent } from '@threadwork/shared';
import type { Response } from 'express';
import type { HeldRun, RunFeed } from './run-feed.js';
import { openSse, type SseOptions, type SseStream } from './sse-response.js';

/**
 * OpenAI's events as they are; product cards as an extra `products` event, which the SDK passes to raw `event`
 * listeners and otherwise ignores. Other internal events stay internal.
 */
export function toAssistantsFrame(event: RunEvent): string | null {
  if (event.event === PRODUCTS_EVENT) {
    const { products } = event.data as { products: unknown };
    return `event: products\ndata: ${JSON.stringify({ products })}\n\n`;
  }
  if (!event.event.startsWith('thread.')) return null;
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export const DONE_FRAME = 'event: done\ndata: [DONE]\n\n';

function send(stream: SseStream, event: RunEvent): void {
  const frame = toAssistantsFrame(event);
  if (frame) stream.write(frame);
  if (!finalRunEvents.has(event.event)) return;
  stream.write(DONE_FRAME);
  stream.end();
}

/**
 * Streams a run's events after `afterSeq` until a final run event, then `done`. Following the run (the step that
 * can fail) happens before the 200 goes out, so a failure is still a JSON error; the feed holds the events until
 * the stream is open.
 */
export async function streamAssistantsRun(
  res: Response,
  feed: RunFeed,
  runId: string,
  afterSeq: number,
  options: SseOptions,
): Promise<void> {
  streamHeldRun(res, await feed.hold(runId, afterSeq), options);
}

/** Opens the stream of a followed run and sends what its feed held, then the rest as it comes. */
export function streamHeldRun(res: Response, followed: HeldRun, options: SseOptions): void {
  const stream = openSse(res, options, () => followed.stop());
  followed.start((event) => send(stream, event));
}
