// The Assistants SSE dialect: OpenAI's event names and payloads, ending after the final run event with [DONE].
import type { Response } from 'express';
import { finalRunEvents, type RunEvent } from '@threadwork/shared';
import type { RunFeed } from './run-feed.js';
import { openSse, type SseOptions } from './sse-response.js';

export function toAssistantsFrame(event: RunEvent): string | null {
  if (!event.event.startsWith('thread.')) return null;
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export const DONE_FRAME = 'event: done\ndata: [DONE]\n\n';

/** Streams a run's events after `afterSeq` until a final run event, then `done`. */
export async function streamAssistantsRun(
  res: Response,
  feed: RunFeed,
  runId: string,
  afterSeq: number,
  options: SseOptions,
): Promise<void> {
  const stream = openSse(res, options);
  const stop = await feed.follow(runId, afterSeq, (event) => {
    const frame = toAssistantsFrame(event);
    if (frame) stream.write(frame);
    if (finalRunEvents.has(event.event)) {
      stream.write(DONE_FRAME);
      stream.end();
    }
  });
  stream.onClose(stop);
}
