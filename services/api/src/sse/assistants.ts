// The Assistants SSE dialect: OpenAI's event names and payloads, ending after the final run event with [DONE].
import { isFinalRunEvent, type RunEvent, withoutFileSearchContent } from '@threadwork/shared';
import type { Response } from 'express';
import type { HeldRun, RunFeed } from './run-feed.js';
import { openSse, type SseOptions, type SseStream } from './sse-response.js';

/** Threadwork's own events a client may ask for on a /v1 stream (`X-Threadwork-Events: products,failover`). */
export type ExtraEvent = 'products' | 'failover';

const extraEvents: readonly ExtraEvent[] = ['products', 'failover'];

/**
 * The extra events a request asks for. OpenAI's SDKs cast every event they do not know into their event union (the
 * Python SDK makes a malformed `ThreadCreated` of it), so a /v1 stream sends none unless asked.
 */
export function requestedExtraEvents(header: string | undefined): ReadonlySet<ExtraEvent> {
  const names = (header ?? '').split(',').map((name) => name.trim().toLowerCase());
  return new Set(extraEvents.filter((name) => names.includes(name)));
}

/** What a request asked to see besides OpenAI's defaults. */
export interface AssistantsView {
  extras: ReadonlySet<ExtraEvent>;
  /** include[]=step_details.tool_calls[*].file_search.results[*].content */
  withFileSearchContent: boolean;
}

/**
 * OpenAI's events as they are (file_search results' content only when asked for); product cards, when asked for, as an extra `products` event (the JS SDK passes it to
 * raw `event` listeners and otherwise ignores it).
 */
export function toAssistantsFrame(event: RunEvent, view: AssistantsView): string | null {
  const { extras } = view;
  switch (event.event) {
    case 'threadwork.products':
      if (!extras.has('products')) return null;
      return `event: products\ndata: ${JSON.stringify({ products: event.data.products })}\n\n`;
    case 'threadwork.model_failover':
      if (!extras.has('failover')) return null;
      return `event: model_failover\ndata: ${JSON.stringify(event.data)}\n\n`;
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
    case 'thread.run.step.delta':
    case 'thread.message.created':
    case 'thread.message.in_progress':
    case 'thread.message.delta':
    case 'thread.message.completed':
    case 'thread.message.incomplete':
      return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
    case 'thread.run.step.created':
    case 'thread.run.step.in_progress':
    case 'thread.run.step.completed':
    case 'thread.run.step.failed':
    case 'thread.run.step.cancelled':
    case 'thread.run.step.expired': {
      const step = view.withFileSearchContent ? event.data : withoutFileSearchContent(event.data);
      return `event: ${event.event}\ndata: ${JSON.stringify(step)}\n\n`;
    }
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

function send(stream: SseStream, event: RunEvent, view: AssistantsView): void {
  const frame = toAssistantsFrame(event, view);
  if (frame) stream.write(frame);
  if (!isFinalRunEvent(event)) return;
  stream.write(DONE_FRAME);
  stream.end();
}

/**
 * Streams a run's events after `afterSeq` until a final run event, then `done`. Following the run (the step that
 * can fail) happens before the 200 goes out, so a failure is still a JSON error; the feed holds the events until
 * the stream is open.
 */
export interface AssistantsStreamOptions extends SseOptions, AssistantsView {}

export async function streamAssistantsRun(
  res: Response,
  feed: RunFeed,
  run: { id: string; eventSeq: number },
  afterSeq: number,
  options: AssistantsStreamOptions,
): Promise<void> {
  streamHeldRun(res, await feed.hold(run.id, afterSeq, run.eventSeq), options);
}

/** Opens the stream of a followed run and sends what its feed held, then the rest as it comes. */
export function streamHeldRun(res: Response, followed: HeldRun, options: AssistantsStreamOptions): void {
  const stream = openSse(res, options, () => followed.stop());
  followed.start({
    onEvent: (event) => send(stream, event, options),
    onBroken: () => {
      stream.write(EVENTS_LOST_FRAME);
      stream.end();
    },
  });
}
