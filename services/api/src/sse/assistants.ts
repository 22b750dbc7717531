// The Assistants SSE dialect: OpenAI's event names and payloads, ending after the final run event with [DONE].
import { isFinalRunEvent, type RunEvent } from '@threadwork/shared';
import type { Response } from 'express';
import type { HeldRun, RunFeed } from './run-feed.js';
import { openSse, type SseOptions, type SseStream } from './sse-response.js';

/**
 * OpenAI's events as they are; product cards as an extra `products` event, which the SDK passes to raw `event`
 * listeners and otherwise ignores.
 */
export function toAssistantsFrame(event: RunEvent): string {
  switch (event.event) {
    case 'threadwork.products':
      return `event: products\ndata: ${JSON.stringify({ products: event.data.products })}\n\n`;
    case 'thread.created':
    case 'thread.run.created':
    case 'thread.run.queued':
    case 'thread.run.in_progress':
    case 'thread.run.requires_action':
    case 'thread.run.cancelling':
    case 'thread.run.completed':
    case 'thread.run.incomplete':
    case 'thread.run.failed':
    case 'thread.run.cancelled':
    case 'thread.run.expired':
    case 'thread.run.step.created':
    case 'thread.run.step.in_progress':
    case 'thread.run.step.delta':
    case 'thread.run.step.completed':
    case 'thread.run.step.failed':
    case 'thread.run.step.cancelled':
    case 'thread.run.step.expired':
    case 'thread.message.created':
    case 'thread.message.in_progress':
    case 'thread.message.delta':
    case 'thread.message.completed':
    case 'thread.message.incomplete':
      return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
    default:
      return assertNeverEvent(event);
  }
}

function assertNeverEvent(event: never): never {
  throw new Error(`No Assistants frame for ${JSON.stringify(event)}`);
}

export const DONE_FRAME = 'event: done\ndata: [DONE]\n\n';

/** OpenAI's `error` event: the stream cannot continue; the run goes on, and can be retrieved. */
const EVENTS_LOST_FRAME = `event: error\ndata: ${JSON.stringify({
  message: "The run's events were interrupted and cannot be streamed further; retrieve the run instead.",
  type: 'server_error',
  param: null,
  code: 'stream_interrupted',
})}\n\n`;

function send(stream: SseStream, event: RunEvent): void {
  stream.write(toAssistantsFrame(event));
  if (!isFinalRunEvent(event)) return;
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
  run: { id: string; eventSeq: number },
  afterSeq: number,
  options: SseOptions,
): Promise<void> {
  streamHeldRun(res, await feed.hold(run.id, afterSeq, run.eventSeq), options);
}

/** Opens the stream of a followed run and sends what its feed held, then the rest as it comes. */
export function streamHeldRun(res: Response, followed: HeldRun, options: SseOptions): void {
  const stream = openSse(res, options, () => followed.stop());
  followed.start({
    onEvent: (event) => send(stream, event),
    onBroken: () => {
      stream.write(EVENTS_LOST_FRAME);
      stream.end();
    },
  });
}
