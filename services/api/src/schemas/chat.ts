// Request schemas of the chat API: the chat message, thread lists and reuse, resuming a stream, feedback.
import { z } from 'zod';
import { metadataSchema } from './common.js';

export function chatInputSchema(maxChars: number) {
  return z.strictObject({
    message: z
      .string()
      .max(maxChars)
      .refine((value) => value.trim().length > 0, 'must not be empty'),
    thread_id: z.string().min(1).nullable().optional(),
    assistant_id: z.string().min(1).nullable().optional(),
    additional_instructions: z.string().max(256_000).nullable().optional(),
    metadata: metadataSchema.nullable().optional(),
    wait: z.boolean().default(true),
  });
}

export type ChatInput = z.infer<ReturnType<typeof chatInputSchema>>;

export const cursorListSchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});

export type CursorListQuery = z.infer<typeof cursorListSchema>;

export const threadInputSchema = z.strictObject({
  assistant_id: z.string().min(1).nullable().optional(),
  reuse: z.boolean().default(false),
  metadata: metadataSchema.nullable().optional(),
});

export type ThreadInput = z.infer<typeof threadInputSchema>;

/** The resume point of a stream: the `Last-Event-ID` header, or `last_event_id` in the query for EventSource. */
export const resumeSchema = z.object({
  last_event_id: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

/** Thumbs down (-1) or up (1), with an optional comment. */
export const feedbackInputSchema = z.strictObject({
  rating: z.literal([-1, 1]),
  comment: z.string().max(2000).nullable().optional(),
});

export type FeedbackInput = z.infer<typeof feedbackInputSchema>;
