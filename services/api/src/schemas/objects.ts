// Response schemas of the Assistants API: the wire objects of packages/shared/src/wire.ts, for the OpenAPI document.
// Each `satisfies` its wire type, and a route's handler may only `res.json` what its declared schema describes, so
// the two cannot drift apart without a compile error.
import {
  type AssistantObject,
  type BuiltinToolType,
  builtinToolTypes,
  type LastError,
  type MessageObject,
  type ProductCard,
  type RunObject,
  type RunStepObject,
  runStatuses,
  type ThreadObject,
  type ToolDefinition,
  type Usage,
} from '@threadwork/shared';
import { z } from 'zod';

/** Named response objects: the OpenAPI document lists them once under components.schemas and refers to them. */
export const responseObjects = z.registry<{ id: string }>();

const metadata = z.record(z.string(), z.string());
const unixTime = z.number().int().describe('Unix time in seconds');
const detail = z.enum(['auto', 'low', 'high']).optional();

export const usageSchema = z
  .object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
  })
  .register(responseObjects, { id: 'Usage' }) satisfies z.ZodType<Usage>;

export const lastErrorSchema = z
  .object({
    code: z.enum(['server_error', 'rate_limit_exceeded', 'invalid_prompt']),
    message: z.string(),
  })
  .register(responseObjects, { id: 'LastError' }) satisfies z.ZodType<LastError>;

export const productCardSchema = z
  .object({
    id: z.union([z.string(), z.number().int()]).describe('As the catalog gave it: a string or an integer'),
    name: z.string(),
    price: z.number().nullable(),
    currency: z.string().nullable(),
    image_url: z.string().nullable(),
    url: z.string().nullable(),
    description: z.string().nullable().optional(),
  })
  .register(responseObjects, { id: 'ProductCard' }) satisfies z.ZodType<ProductCard>;

const toolDefinitionSchema = z
  .union([
    z.object({
      type: z.literal('function'),
      function: z.object({
        name: z.string(),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      }),
    }),
    z.object({ type: z.literal('code_interpreter') }),
    z.object({ type: z.literal('file_search'), file_search: z.record(z.string(), z.unknown()).optional() }),
    z.object({ type: z.enum(builtinToolTypes as [BuiltinToolType, ...BuiltinToolType[]]) }),
  ])
  .register(responseObjects, { id: 'ToolDefinition' }) satisfies z.ZodType<ToolDefinition>;

const responseFormatSchema = z.union([
  z.literal('auto'),
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
  z.object({ type: z.enum(['code_interpreter', 'file_search']) }),
]);

export const assistantObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('assistant'),
    created_at: unixTime,
    name: z.string().nullable(),
    description: z.string().nullable(),
    model: z.string(),
    instructions: z.string().nullable(),
    tools: z.array(toolDefinitionSchema),
    tool_resources: z.record(z.string(), z.unknown()),
    metadata,
    temperature: z.number().nullable(),
    top_p: z.number().nullable(),
    response_format: responseFormatSchema.nullable(),
    reasoning_effort: z.string().nullable(),
  })
  .register(responseObjects, { id: 'AssistantObject' }) satisfies z.ZodType<AssistantObject>;

export const threadObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('thread'),
    created_at: unixTime,
    metadata,
    tool_resources: z.record(z.string(), z.unknown()),
  })
  .register(responseObjects, { id: 'ThreadObject' }) satisfies z.ZodType<ThreadObject>;

const fileCitationSchema = z.object({
  type: z.literal('file_citation'),
  text: z.string(),
  start_index: z.number().int(),
  end_index: z.number().int(),
  file_citation: z.object({ file_id: z.string() }),
});

const filePathSchema = z.object({
  type: z.literal('file_path'),
  text: z.string(),
  start_index: z.number().int(),
  end_index: z.number().int(),
  file_path: z.object({ file_id: z.string() }),
});

const contentPartSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('text'),
    text: z.object({
      value: z.string(),
      annotations: z.array(z.discriminatedUnion('type', [fileCitationSchema, filePathSchema])),
    }),
  }),
  z.object({ type: z.literal('image_file'), image_file: z.object({ file_id: z.string(), detail }) }),
  z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string(), detail }) }),
  z.object({ type: z.literal('refusal'), refusal: z.string() }),
]);

export const messageObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('thread.message'),
    created_at: unixTime,
    thread_id: z.string(),
    status: z.enum(['in_progress', 'incomplete', 'completed']),
    incomplete_details: z.object({ reason: z.string() }).nullable(),
    completed_at: unixTime.nullable(),
    incomplete_at: unixTime.nullable(),
    role: z.enum(['user', 'assistant']),
    content: z.array(contentPartSchema),
    assistant_id: z.string().nullable(),
    run_id: z.string().nullable(),
    attachments: z.array(z.unknown()),
    metadata,
  })
  .register(responseObjects, { id: 'MessageObject' }) satisfies z.ZodType<MessageObject>;

const functionToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const runObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('thread.run'),
    created_at: unixTime,
    thread_id: z.string(),
    assistant_id: z.string(),
    status: z.enum(runStatuses),
    required_action: z
      .object({
        type: z.literal('submit_tool_outputs'),
        submit_tool_outputs: z.object({ tool_calls: z.array(functionToolCallSchema) }),
      })
      .nullable(),
    last_error: lastErrorSchema.nullable(),
    expires_at: unixTime.nullable(),
    started_at: unixTime.nullable(),
    cancelled_at: unixTime.nullable(),
    failed_at: unixTime.nullable(),
    completed_at: unixTime.nullable(),
    incomplete_details: z
      .object({ reason: z.enum(['max_completion_tokens', 'max_prompt_tokens']) })
      .nullable(),
    model: z.string(),
    instructions: z.string(),
    tools: z.array(toolDefinitionSchema),
    metadata,
    usage: usageSchema.nullable(),
    temperature: z.number().nullable(),
    top_p: z.number().nullable(),
    max_prompt_tokens: z.number().int().nullable(),
    max_completion_tokens: z.number().int().nullable(),
    truncation_strategy: z.object({
      type: z.enum(['auto', 'last_messages']),
      last_messages: z.number().int().nullable(),
    }),
    tool_choice: toolChoiceSchema,
    parallel_tool_calls: z.boolean(),
    response_format: responseFormatSchema,
  })
  .register(responseObjects, { id: 'RunObject' }) satisfies z.ZodType<RunObject>;

const stepToolCallSchema = z.discriminatedUnion('type', [
  z.object({
    id: z.string(),
    type: z.literal('function'),
    function: z.object({ name: z.string(), arguments: z.string(), output: z.string().nullable() }),
  }),
  z.object({
    id: z.string(),
    type: z.literal('file_search'),
    file_search: z.object({
      ranking_options: z
        .object({ ranker: z.enum(['auto', 'default_2024_08_21']), score_threshold: z.number() })
        .optional(),
      results: z
        .array(
          z.object({
            file_id: z.string(),
            file_name: z.string(),
            score: z.number(),
            content: z.array(z.object({ type: z.literal('text'), text: z.string() })).optional(),
          }),
        )
        .optional(),
    }),
  }),
  z.object({
    id: z.string(),
    type: z.literal('code_interpreter'),
    code_interpreter: z.object({
      input: z.string(),
      outputs: z.array(
        z.discriminatedUnion('type', [
          z.object({ type: z.literal('logs'), logs: z.string() }),
          z.object({ type: z.literal('image'), image: z.object({ file_id: z.string() }) }),
        ]),
      ),
    }),
  }),
]);

export const runStepObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('thread.run.step'),
    created_at: unixTime,
    assistant_id: z.string(),
    thread_id: z.string(),
    run_id: z.string(),
    type: z.enum(['message_creation', 'tool_calls']),
    status: z.enum(['in_progress', 'cancelled', 'failed', 'completed', 'expired']),
    step_details: z.discriminatedUnion('type', [
      z.object({
        type: z.literal('message_creation'),
        message_creation: z.object({ message_id: z.string() }),
      }),
      z.object({ type: z.literal('tool_calls'), tool_calls: z.array(stepToolCallSchema) }),
    ]),
    last_error: lastErrorSchema.nullable(),
    expired_at: unixTime.nullable(),
    cancelled_at: unixTime.nullable(),
    failed_at: unixTime.nullable(),
    completed_at: unixTime.nullable(),
    metadata: metadata.nullable(),
    usage: usageSchema.nullable(),
  })
  .register(responseObjects, { id: 'RunStepObject' }) satisfies z.ZodType<RunStepObject>;

/** The list envelope OpenAI's CursorPage reads (`ListPage` in repositories/pagination.ts). */
export function listPageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });
}

/** What a delete answers: `{ id, object: '<kind>.deleted', deleted: true }`. */
export function deletedSchema<K extends string>(object: K) {
  return z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });
}
