// Request bodies of the assistant endpoints.
import { z } from 'zod';
import { metadataSchema, responseFormatSchema, toolResourcesSchema, toolSchema } from './common.js';

const assistantFields = {
  model: z.string().min(1),
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  tools: z.array(toolSchema).max(128).optional(),
  tool_resources: toolResourcesSchema,
  metadata: metadataSchema.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  response_format: responseFormatSchema.nullable().optional(),
  reasoning_effort: z
    .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
    .nullable()
    .optional(),
};

export const createAssistantSchema = z.strictObject(assistantFields);
export const modifyAssistantSchema = z.strictObject({
  ...assistantFields,
  model: assistantFields.model.optional(),
});

export type CreateAssistantInput = z.infer<typeof createAssistantSchema>;
export type ModifyAssistantInput = z.infer<typeof modifyAssistantSchema>;
