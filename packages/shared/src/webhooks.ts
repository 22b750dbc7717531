// Webhooks when a run ends: the event types an endpoint subscribes to, which run event is which, the retry
// schedule (docs/webhooks.md).
import { z } from 'zod';
import type { NewRunEvent } from './run-events.js';

export const webhookEventTypes = [
  'run.completed',
  'run.failed',
  'run.requires_action',
  'run.cancelled',
  'run.expired',
  'run.incomplete',
] as const;

export type WebhookEventType = (typeof webhookEventTypes)[number];

export const webhookEventTypeSchema = z.enum(webhookEventTypes);

/** The webhook event a run event is, or null: only the events that end a run (or hand it to the client) are sent. */
export function webhookEventOf(event: NewRunEvent): WebhookEventType | null {
  switch (event.event) {
    case 'thread.run.completed':
      return 'run.completed';
    case 'thread.run.failed':
      return 'run.failed';
    case 'thread.run.requires_action':
      return 'run.requires_action';
    case 'thread.run.cancelled':
      return 'run.cancelled';
    case 'thread.run.expired':
      return 'run.expired';
    case 'thread.run.incomplete':
      return 'run.incomplete';
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
      return null;
    default:
      return assertNeverEvent(event);
  }
}

function assertNeverEvent(value: never): never {
  throw new Error(`Unexpected run event: ${JSON.stringify(value)}`);
}

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5s,5m,30m,2h` → milliseconds: the wait before each retry of a delivery (its length is the number of retries). */
export const retryDelaysFromEnv = z
  .string()
  .transform((value, context) => {
    const delays: number[] = [];
    for (const item of value.split(',').map((part) => part.trim())) {
      const match = /^(\d+)(ms|s|m|h|d)$/.exec(item);
      if (!match?.[1] || !match[2]) {
        context.addIssue({
          code: 'custom',
          message: `'${item}' is not a duration such as 500ms, 5s, 30m, 2h or 1d`,
        });
        return z.NEVER;
      }
      delays.push(Number(match[1]) * durationUnits[match[2] as keyof typeof durationUnits]);
    }
    return delays;
  })
  .pipe(z.array(z.number().int().positive()).min(1).max(50));

/** The wait before retry `retry` (1-based) of a delivery, or null when the schedule has no more retries. */
export function retryDelayMs(delays: readonly number[], retry: number): number | null {
  return delays[retry - 1] ?? null;
}
