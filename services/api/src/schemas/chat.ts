// Schemas of the chat API: requests (the chat message, thread lists and reuse, resuming a stream, feedback) and
// the objects it answers, each checked against the type its service builds.
import { multitaskStrategies, runStatuses } from '@threadwork/shared';
import { z } from 'zod';
import type { ChatThread } from '../repositories/chat-threads.js';
import type { ThreadExport } from '../services/chat/export.js';
import type { AdminFeedbackObject, FeedbackObject } from '../services/chat/feedback.js';
import type { ChatMessage } from '../services/chat/history.js';
import type { ChatRunView, RunLinks } from '../services/chat/run-view.js';
import { metadataSchema } from './common.js';
import { lastErrorSchema, productCardSchema, responseObjects, usageSchema } from './objects.js';

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
    multitask_strategy: z
      .enum(multitaskStrategies)
      .default('enqueue')
      .describe('When the thread is busy: reject, enqueue (wait for its turn), interrupt or rollback'),
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

const unixTime = z.number().int().describe('Unix time in seconds');
const runStatus = z.enum(runStatuses);

const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
  output: z.string().nullable(),
});

export const chatRunViewSchema = z
  .object({
    thread_id: z.string(),
    run_id: z.string(),
    status: runStatus,
    response: z.string().nullable(),
    message_id: z.string().nullable(),
    products: z.array(productCardSchema),
    tool_calls: z.array(toolCallSchema),
    tokens_used: z.number().int().nullable().describe('Total tokens of the run (usage.total_tokens)'),
    usage: usageSchema.nullable(),
    model_used: z.string(),
    cost_estimate: z.number().nullable(),
    response_time_ms: z.number().nullable(),
    error: lastErrorSchema.nullable(),
  })
  .register(responseObjects, { id: 'ChatRunView' }) satisfies z.ZodType<ChatRunView>;

export const runLinksSchema = z
  .object({
    thread_id: z.string(),
    run_id: z.string(),
    status: runStatus,
    poll_url: z.string(),
    stream_url: z.string(),
  })
  .register(responseObjects, { id: 'RunLinks' }) satisfies z.ZodType<RunLinks>;

export const chatThreadSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.thread'),
    assistant_id: z.string().nullable(),
    created_at: unixTime,
    last_interaction_at: unixTime,
    metadata: z.record(z.string(), z.string()),
    last_message: z
      .object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        preview: z.string(),
        created_at: unixTime,
      })
      .nullable(),
  })
  .register(responseObjects, { id: 'ChatThread' }) satisfies z.ZodType<ChatThread>;

export const chatMessageSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.message'),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    status: z.enum(['in_progress', 'incomplete', 'completed']),
    run_id: z.string().nullable(),
    created_at: unixTime,
    products: z.array(productCardSchema),
  })
  .register(responseObjects, { id: 'ChatMessage' }) satisfies z.ZodType<ChatMessage>;

export const feedbackObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('message.feedback'),
    message_id: z.string(),
    rating: z.number().int(),
    comment: z.string().nullable(),
    created_at: unixTime,
  })
  .register(responseObjects, { id: 'Feedback' }) satisfies z.ZodType<FeedbackObject>;

export const adminFeedbackObjectSchema = feedbackObjectSchema
  .extend({
    owner_id: z.string(),
    thread_id: z.string(),
    run_id: z.string().nullable(),
    message_preview: z.string(),
  })
  .register(responseObjects, { id: 'AdminFeedback' }) satisfies z.ZodType<AdminFeedbackObject>;

export const exportQuerySchema = z.object({
  format: z.enum(['json', 'markdown']).default('json'),
});

export const threadExportSchema = z
  .object({
    object: z.literal('chat.thread.export'),
    thread_id: z.string(),
    assistant_id: z.string().nullable(),
    created_at: unixTime,
    exported_at: unixTime,
    metadata: z.record(z.string(), z.string()),
    messages: z.array(
      z.object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        content: z.string(),
        created_at: unixTime,
        run_id: z.string().nullable(),
        tool_calls: z.array(toolCallSchema),
        products: z.array(productCardSchema),
        feedback: z.array(
          z.object({ rating: z.number().int(), comment: z.string().nullable(), created_at: unixTime }),
        ),
      }),
    ),
  })
  .register(responseObjects, { id: 'ThreadExport' }) satisfies z.ZodType<ThreadExport>;

/** A page of a list ordered newest first, continued with `next_cursor` (`CursorPage` in repositories/cursor.ts). */
export function cursorPageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  });
}
