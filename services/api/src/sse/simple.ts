// The simple SSE dialect of the chat API: thread_id first, text deltas, tool activity, product cards, done last.

import {
  assertNever,
  type Db,
  type EventBus,
  type FinalRunEvent,
  hasStopped,
  isFinalRunEvent,
  type ProductCard,
  type RunEvent,
  type RunRow,
  type RunStatus,
  type RunStepDeltaObject,
  type RunStepObject,
  type Usage,
} from '@threadwork/shared';
import type { Response } from 'express';

import { type ChatRunView, loadChatView } from '../services/chat/run-view.js';
import type { FeedListener, HeldRun, RunFeed } from './run-feed.js';
import { openSse, type SseOptions, type SseStream } from './sse-response.js';

export interface DoneData {
  thread_id: string;
  run_id: string;
  status: RunStatus;
  message_id: string | null;
  /** The total tokens, as in the chat run view; `usage` has the breakdown. */
  tokens_used: number | null;
  usage: Usage | null;
  model: string;
  cost_estimate: number | null;
  response_time_ms: number | null;
}

export type SimpleEvent =
  | { event: 'thread_id'; data: { thread_id: string; run_id: string } }
  | { event: 'text'; data: { content: string; message_id: string } }
  | { event: 'tool'; data: { name: string; status: 'started' | 'completed'; call_id: string } }
  | { event: 'products'; data: { products: ProductCard[] } }
  | { event: 'error'; data: { message: string; code: string } }
  | { event: 'done'; data: DoneData };

export interface SimpleStreamDeps {
  db: Db;
  events: EventBus;
  feed: RunFeed;
}

const STREAM_INTERRUPTED: SimpleEvent = {
  event: 'error',
  data: {
    message: "The run's events were interrupted; resume with Last-Event-ID or fetch the run.",
    code: 'stream_interrupted',
  },
};

function toolEvents(
  step: RunStepObject | RunStepDeltaObject,
  status: 'started' | 'completed',
): SimpleEvent[] {
  const details = 'delta' in step ? step.delta.step_details : step.step_details;
  if (details.type !== 'tool_calls') return [];
  return details.tool_calls.flatMap((call) => {
    const name = call.type === 'function' ? call.function.name : call.type;
    return call.id && name ? [{ event: 'tool' as const, data: { name, status, call_id: call.id } }] : [];
  });
}

/** The simple events one run event becomes (none for most); thread_id and done are decided by the stream. */
function toSimpleEvents(event: RunEvent): SimpleEvent[] {
  switch (event.event) {
    case 'thread.message.delta': {
      const content = event.data.delta.content.map((part) => part.text.value).join('');
      return content ? [{ event: 'text', data: { content, message_id: event.data.id } }] : [];
    }
    case 'thread.run.step.delta':
      return toolEvents(event.data, 'started');
    case 'thread.run.step.completed':
      return toolEvents(event.data, 'completed');
    case 'threadwork.products':
      return event.data.products.length > 0
        ? [{ event: 'products', data: { products: event.data.products } }]
        : [];
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
    case 'thread.run.step.failed':
    case 'thread.run.step.cancelled':
    case 'thread.run.step.expired':
    case 'thread.message.created':
    case 'thread.message.in_progress':
    case 'thread.message.completed':
    case 'thread.message.incomplete':
    case 'threadwork.model_failover':
      return [];
    default:
      return assertNever(event);
  }
}

/** The name is in `event:` and again as the data's `type`, for clients that read only the `data:` lines. */
function simpleFrame(id: number | null, event: SimpleEvent): string {
  const idLine = id === null ? '' : `id: ${id}\n`;
  return `${idLine}event: ${event.event}\ndata: ${JSON.stringify({ type: event.event, ...event.data })}\n\n`;
}

function threadIdEvent(run: RunRow): SimpleEvent {
  return { event: 'thread_id', data: { thread_id: run.threadId, run_id: run.id } };
}

function doneFromView(view: ChatRunView): DoneData {
  return {
    thread_id: view.thread_id,
    run_id: view.run_id,
    status: view.status,
    message_id: view.message_id,
    tokens_used: view.tokens_used,
    usage: view.usage,
    model: view.model_used,
    cost_estimate: view.cost_estimate,
    response_time_ms: view.response_time_ms,
  };
}

/** When Postgres cannot be read: what the final event says. */
function doneFromEvent(run: RunRow, final: FinalRunEvent): DoneData {
  return doneFromView({
    ...emptyView(run),
    status: final.data.status,
    tokens_used: final.data.usage?.total_tokens ?? null,
    usage: final.data.usage,
    model_used: final.data.model,
  });
}

function emptyView(run: RunRow): ChatRunView {
  return {
    thread_id: run.threadId,
    run_id: run.id,
    status: run.status,
    response: null,
    message_id: null,
    products: [],
    tool_calls: [],
    tokens_used: run.usage?.total_tokens ?? null,
    usage: run.usage,
    model_used: run.model,
    cost_estimate: null,
    response_time_ms: null,
    error: run.lastError,
  };
}

/** The last events of a stream: the run's error when it failed, then done. */
function endingEvents(view: ChatRunView): SimpleEvent[] {
  const error: SimpleEvent[] =
    view.status === 'failed'
      ? [
          {
            event: 'error',
            data: {
              message: view.error?.message ?? 'The run failed.',
              code: view.error?.code ?? 'server_error',
            },
          },
        ]
      : [];
  return [...error, { event: 'done', data: doneFromView(view) }];
}

/** A whole stream told from Postgres, for a stopped run whose events have expired from Redis. */
function eventsFromView(view: ChatRunView): SimpleEvent[] {
  const tools = view.tool_calls.flatMap((call): SimpleEvent[] =>
    (['started', 'completed'] as const).map((status) => ({
      event: 'tool',
      data: { name: call.name, status, call_id: call.id },
    })),
  );
  return [
    { event: 'thread_id', data: { thread_id: view.thread_id, run_id: view.run_id } },
    ...tools,
    ...(view.products.length > 0 ? [{ event: 'products' as const, data: { products: view.products } }] : []),
    ...(view.response && view.message_id
      ? [{ event: 'text' as const, data: { content: view.response, message_id: view.message_id } }]
      : []),
    ...endingEvents(view),
  ];
}

/**
 * The frames of a stopped run told from Postgres: only its ending when the client has every event, else (its log
 * is gone) the whole reply as stored. Done carries the run's last seq, so a resume after it has nothing to add.
 */
function replayFrames(run: RunRow, view: ChatRunView, afterSeq: number): string {
  const hasEverything = afterSeq >= run.eventSeq;
  const events = hasEverything ? [threadIdEvent(run), ...endingEvents(view)] : eventsFromView(view);
  return events.map((event) => simpleFrame(event.event === 'done' ? run.eventSeq : null, event)).join('');
}

/**
 * Relays followed run events to a stream: thread_id before the first one (unless resumed), simple events after,
 * and at the final event the ending told from Postgres (or from the event when Postgres cannot be read).
 */
function simpleRelay(
  deps: SimpleStreamDeps,
  run: RunRow,
  afterSeq: number,
  followed: HeldRun,
  stream: SseStream,
): FeedListener {
  let hasSentThreadId = afterSeq > 0;
  let isEnding = false;
  const finish = async (final: FinalRunEvent, frames: string[]) => {
    isEnding = true;
    followed.stop();
    const view = await loadChatView(deps.db, run.id).catch(() => null);
    const ending = view ? endingEvents(view) : [{ event: 'done' as const, data: doneFromEvent(run, final) }];
    stream.write([...frames, ...ending.map((event) => simpleFrame(final.seq, event))].join(''));
    stream.end();
  };
  const onEvent = (event: RunEvent) => {
    if (isEnding) return;
    const frames: string[] = [];
    if (!hasSentThreadId) {
      hasSentThreadId = true;
      frames.push(simpleFrame(event.event === 'thread.run.created' ? event.seq : null, threadIdEvent(run)));
    }
    if (isFinalRunEvent(event)) {
      void finish(event, frames);
      return;
    }
    frames.push(...toSimpleEvents(event).map((simple) => simpleFrame(event.seq, simple)));
    if (frames.length > 0) stream.write(frames.join(''));
  };
  const onBroken = () => {
    if (isEnding) return;
    isEnding = true;
    stream.write(simpleFrame(null, STREAM_INTERRUPTED));
    stream.end();
  };
  return { onEvent, onBroken };
}

/**
 * Whether a stopped run's log holds every event from `afterSeq + 1` to its last stored seq (a stopped run's log is
 * small). It is gone after a flush or its expiry; holds only the later events of a run that went on after a flush;
 * and misses the seqs a worker stored but died before publishing.
 */
async function logIsWhole(events: EventBus, run: RunRow, afterSeq: number): Promise<boolean> {
  const logged = await events.read(run.id, afterSeq);
  const isContiguous = logged.every((event, index) => event.seq === afterSeq + 1 + index);
  return isContiguous && (logged.at(-1)?.seq ?? afterSeq) >= run.eventSeq;
}

/**
 * Streams a run in the simple dialect from after `afterSeq` (0: from the start). Every frame carries the seq of
 * the run event it comes from as its id, so `Last-Event-ID` resumes without gaps or duplicates; a resumed stream
 * repeats thread_id first without an id. The steps that can fail (reading Redis and Postgres) happen before the
 * 200 goes out, so a failure is still a JSON error. Disconnecting stops the stream, never the run.
 */
export async function streamSimpleRun(
  res: Response,
  deps: SimpleStreamDeps,
  run: RunRow,
  afterSeq: number,
  options: SseOptions,
): Promise<void> {
  if (
    hasStopped(run.status) &&
    (run.eventSeq <= afterSeq || !(await logIsWhole(deps.events, run, afterSeq)))
  ) {
    const view = (await loadChatView(deps.db, run.id)) ?? emptyView(run);
    const stream = openSse(res, options);
    stream.write(replayFrames(run, view, afterSeq));
    stream.end();
    return;
  }
  streamHeldSimpleRun(
    res,
    deps,
    run,
    { followed: await deps.feed.hold(run.id, afterSeq, run.eventSeq), afterSeq },
    options,
  );
}

/**
 * Opens the simple stream of a followed run (held from after `afterSeq`, or from before its first event by
 * `RunFeed.holdNew`) and relays what the feed held, then the rest as it comes.
 */
export function streamHeldSimpleRun(
  res: Response,
  deps: SimpleStreamDeps,
  run: RunRow,
  { followed, afterSeq }: { followed: HeldRun; afterSeq: number },
  options: SseOptions,
): void {
  const stream = openSse(res, options, () => followed.stop());
  if (afterSeq > 0) stream.write(simpleFrame(null, threadIdEvent(run)));
  followed.start(simpleRelay(deps, run, afterSeq, followed, stream));
}
