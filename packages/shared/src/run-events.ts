// Every event a run emits, one typed contract: the event name decides the payload. Producers build only these;
// consumers (the SSE dialects, the chat API, webhooks) switch on `event` exhaustively.
import { z } from 'zod';
import type { RunRow } from './objects.js';
import { assertNever } from './run-status.js';
import type {
  MessageDeltaObject,
  MessageObject,
  ProductCard,
  RunObject,
  RunStepDeltaObject,
  RunStepObject,
  ThreadObject,
} from './wire.js';

/** Product cards shown by `show_products` for a tool step: a Threadwork event, not OpenAI's. */
export interface ProductsPayload {
  step_id: string;
  products: ProductCard[];
}

/** A model call handed over to the next model of its MODEL_FALLBACKS chain, before any output: a Threadwork event. */
export interface ModelFailoverPayload {
  from: string;
  to: string;
  reason: string;
}

export interface RunEventPayloads {
  'thread.created': ThreadObject;
  'thread.run.created': RunObject;
  'thread.run.queued': RunObject;
  'thread.run.in_progress': RunObject;
  'thread.run.requires_action': RunObject;
  'thread.run.cancelling': RunObject;
  'thread.run.completed': RunObject;
  'thread.run.incomplete': RunObject;
  'thread.run.failed': RunObject;
  'thread.run.cancelled': RunObject;
  'thread.run.expired': RunObject;
  'thread.run.step.created': RunStepObject;
  'thread.run.step.in_progress': RunStepObject;
  'thread.run.step.delta': RunStepDeltaObject;
  'thread.run.step.completed': RunStepObject;
  'thread.run.step.failed': RunStepObject;
  'thread.run.step.cancelled': RunStepObject;
  'thread.run.step.expired': RunStepObject;
  'thread.message.created': MessageObject;
  'thread.message.in_progress': MessageObject;
  'thread.message.delta': MessageDeltaObject;
  'thread.message.completed': MessageObject;
  'thread.message.incomplete': MessageObject;
  'threadwork.products': ProductsPayload;
  'threadwork.model_failover': ModelFailoverPayload;
}

export type RunEventName = keyof RunEventPayloads;

/** An event as a producer builds it; the event bus gives it its seq. */
export type NewRunEvent = { [N in RunEventName]: { event: N; data: RunEventPayloads[N] } }[RunEventName];

/** An event as appended: `seq` increases by one per event of a run and is durable (see docs/architecture.md). */
export type RunEvent = NewRunEvent & { seq: number; run_id: string; thread_id: string };

/** The names, listed once; `satisfies` keeps the list and the payload map in step. */
const names = {
  'thread.created': true,
  'thread.run.created': true,
  'thread.run.queued': true,
  'thread.run.in_progress': true,
  'thread.run.requires_action': true,
  'thread.run.cancelling': true,
  'thread.run.completed': true,
  'thread.run.incomplete': true,
  'thread.run.failed': true,
  'thread.run.cancelled': true,
  'thread.run.expired': true,
  'thread.run.step.created': true,
  'thread.run.step.in_progress': true,
  'thread.run.step.delta': true,
  'thread.run.step.completed': true,
  'thread.run.step.failed': true,
  'thread.run.step.cancelled': true,
  'thread.run.step.expired': true,
  'thread.message.created': true,
  'thread.message.in_progress': true,
  'thread.message.delta': true,
  'thread.message.completed': true,
  'thread.message.incomplete': true,
  'threadwork.products': true,
  'threadwork.model_failover': true,
} satisfies Record<RunEventName, true>;

export const runEventNames = Object.keys(names) as RunEventName[];

/** The envelope as read back from Redis; payloads were built from the typed contract by our own producers. */
const runEventSchema = z.object({
  seq: z.number().int().positive(),
  run_id: z.string(),
  thread_id: z.string(),
  event: z.enum(runEventNames as [RunEventName, ...RunEventName[]]),
  data: z.unknown(),
});

/** The events of one stream entry or channel message, in order. */
export function parseRunEvents(raw: string): RunEvent[] {
  return z.array(runEventSchema).parse(JSON.parse(raw)) as RunEvent[];
}

/** The run events that end one Assistants stream: the run stopped, or waits for the client's tool outputs. */
export type FinalRunEvent = Extract<
  RunEvent,
  {
    event:
      | 'thread.run.requires_action'
      | 'thread.run.completed'
      | 'thread.run.incomplete'
      | 'thread.run.failed'
      | 'thread.run.cancelled'
      | 'thread.run.expired';
  }
>;

export function isFinalRunEvent(event: RunEvent): event is FinalRunEvent {
  switch (event.event) {
    case 'thread.run.requires_action':
    case 'thread.run.completed':
    case 'thread.run.incomplete':
    case 'thread.run.failed':
    case 'thread.run.cancelled':
    case 'thread.run.expired':
      return true;
    case 'thread.created':
    case 'thread.run.created':
    case 'thread.run.queued':
    case 'thread.run.in_progress':
    case 'thread.run.cancelling':
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
    case 'threadwork.products':
    case 'threadwork.model_failover':
      return false;
    default:
      return assertNever(event);
  }
}

type RunStatusEventName = Extract<RunEventName, `thread.run.${RunRow['status']}`>;

/** The event that announces a run in its current status. */
export function runStatusEvent(run: RunObject): NewRunEvent {
  return { event: `thread.run.${run.status}` as RunStatusEventName, data: run };
}

type StepStatusEventName = Extract<RunEventName, `thread.run.step.${RunStepObject['status']}`>;

/** The event that announces a run step in its current status. */
export function runStepStatusEvent(step: RunStepObject): NewRunEvent {
  return { event: `thread.run.step.${step.status}` as StepStatusEventName, data: step };
}

/** A text delta of an answer message (one content part: the message's text). */
export function messageTextDelta(messageId: string, value: string): NewRunEvent {
  return {
    event: 'thread.message.delta',
    data: {
      id: messageId,
      object: 'thread.message.delta',
      delta: { content: [{ index: 0, type: 'text', text: { value, annotations: [] } }] },
    },
  };
}
