// Webhooks when a run ends: the event types an endpoint subscribes to, which run event is which, the retry
// schedule (docs/webhooks.md).
import { z } from 'zod';
import type { FinalRunEvent, NewRunEvent } from './run-events.js';

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

/** The webhook event of each run event that ends a run (or hands it to the client). */
const webhookEventByRunEvent = {
  'thread.run.completed': 'run.completed',
  'thread.run.failed': 'run.failed',
  'thread.run.requires_action': 'run.requires_action',
  'thread.run.cancelled': 'run.cancelled',
  'thread.run.expired': 'run.expired',
  'thread.run.incomplete': 'run.incomplete',
} as const satisfies Record<FinalRunEvent['event'], WebhookEventType>;

/** The webhook event a run event is, or null: only the events that end a run (or hand it to the client) are sent. */
export function webhookEventOf(event: NewRunEvent): WebhookEventType | null {
  return Object.hasOwn(webhookEventByRunEvent, event.event)
    ? webhookEventByRunEvent[event.event as FinalRunEvent['event']]
    : null;
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
