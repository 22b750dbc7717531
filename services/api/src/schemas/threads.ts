// Request bodies and queries of the thread and message endpoints.
import { z } from 'zod';
import { createMessageSchema, listQuerySchema, metadataSchema, toolResourcesSchema } from './common.js';

export function createThreadSchema(maxChars: number) {
  return z.strictObject({
    messages: z.array(createMessageSchema(maxChars)).max(32).optional(),
    tool_resources: toolResourcesSchema,
    metadata: metadataSchema.nullable().optional(),
  });
}

export type CreateThreadInput = z.infer<ReturnType<typeof createThreadSchema>>;

export const modifyThreadSchema = z.strictObject({
  metadata: metadataSchema.nullable().optional(),
  tool_resources: toolResourcesSchema,
});

export type ModifyThreadInput = z.infer<typeof modifyThreadSchema>;

export const modifyMessageSchema = z.strictObject({ metadata: metadataSchema.nullable().optional() });

export type ModifyMessageInput = z.infer<typeof modifyMessageSchema>;

export const listMessagesSchema = listQuerySchema.extend({ run_id: z.string().optional() });

export type ListMessagesQuery = z.infer<typeof listMessagesSchema>;
