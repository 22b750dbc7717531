// Request bodies of the run endpoints.
import { FILE_SEARCH_CONTENT_INCLUDE, multitaskStrategies } from '@threadwork/shared';
import { z } from 'zod';
import {
  createMessageSchema,
  listQuerySchema,
  MAX_INTEGER,
  metadataSchema,
  responseFormatSchema,
  toolChoiceSchema,
  toolResourcesSchema,
  toolSchema,
  truncationStrategySchema,
} from './common.js';

const runFields = {
  assistant_id: z.string().min(1),
  model: z.string().min(1).nullable().optional(),
  instructions: z.string().max(256_000).nullable().optional(),
  tools: z.array(toolSchema).max(128).nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  max_prompt_tokens: z.number().int().min(256).max(MAX_INTEGER).nullable().optional(),
  max_completion_tokens: z.number().int().min(256).max(MAX_INTEGER).nullable().optional(),
  truncation_strategy: truncationStrategySchema.nullable().optional(),
  tool_choice: toolChoiceSchema.nullable().optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormatSchema.nullable().optional(),
};

export function createRunSchema(maxChars: number) {
  return z.strictObject({
    ...runFields,
    additional_instructions: z.string().max(256_000).nullable().optional(),
    additional_messages: z.array(createMessageSchema(maxChars)).max(32).nullable().optional(),
    reasoning_effort: z
      .enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
      .nullable()
      .optional(),
    multitask_strategy: z
      .enum(multitaskStrategies)
      .nullable()
      .optional()
      .describe(
        'Threadwork extension. When the thread has an unfinished run: reject (default), enqueue, interrupt, rollback',
      ),
  });
}

export function createThreadAndRunSchema(maxChars: number) {
  return z.strictObject({
    ...runFields,
    thread: z
      .strictObject({
        messages: z.array(createMessageSchema(maxChars)).max(32).optional(),
        tool_resources: toolResourcesSchema,
        metadata: metadataSchema.nullable().optional(),
      })
      .optional(),
    tool_resources: toolResourcesSchema,
  });
}

export type CreateRunInput = z.infer<ReturnType<typeof createRunSchema>>;
export type CreateThreadAndRunInput = z.infer<ReturnType<typeof createThreadAndRunSchema>>;
export type RunSettingsInput = Omit<
  CreateRunInput,
  'additional_messages' | 'additional_instructions' | 'reasoning_effort' | 'multitask_strategy'
> & {
  additional_instructions?: string | null;
};

export const submitToolOutputsSchema = z.strictObject({
  tool_outputs: z
    .array(
      z.strictObject({ tool_call_id: z.string().optional(), output: z.string().max(512_000).optional() }),
    )
    .max(128),
  stream: z.boolean().nullable().optional(),
});

export const modifyRunSchema = z.strictObject({ metadata: metadataSchema.nullable().optional() });

export type ModifyRunInput = z.infer<typeof modifyRunSchema>;

const includeValue = z.enum([FILE_SEARCH_CONTENT_INCLUDE]);

/** `include[]`: the additional fields a run's steps show (OpenAI's one: the file_search results' content). */
const include = z.union([includeValue, z.array(includeValue).max(10)]).optional();

export const runIncludeQuerySchema = z.object({ include });
export const runStepsListQuerySchema = listQuerySchema.extend({ include });

/** Whether `include[]` asks for the file_search results' content. */
export function includesFileSearchContent(value: z.infer<typeof include>): boolean {
  return value !== undefined && (typeof value === 'string' || value.length > 0);
}
