// Request schemas shared by several resources: metadata, tools, tool choice, response format, messages, lists.
import { isBuiltinToolType } from '@threadwork/shared';
import { chunkingStrategySchema } from '@threadwork/shared/files/vector-store-wire';
import { z } from 'zod';

/** The largest value of a Postgres `integer` column: counts stored in one are bounded by it. */
export const MAX_INTEGER = 2_147_483_647;

const METADATA_MAX_PAIRS = 16;
const METADATA_KEY_MAX = 64;
const METADATA_VALUE_MAX = 512;

export const metadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const entries = Object.entries(value);
    if (entries.length > METADATA_MAX_PAIRS) {
      ctx.addIssue({
        code: 'custom',
        message: `Invalid 'metadata': too many properties. Expected an object with at most ${METADATA_MAX_PAIRS} properties, but got an object with ${entries.length} properties instead.`,
        params: { code: 'object_above_max_properties' },
      });
      return;
    }
    for (const [key, item] of entries) {
      if (key.length > METADATA_KEY_MAX) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Invalid property name in 'metadata': '${key}' is too long. Expected a string with maximum length ${METADATA_KEY_MAX}, but got a string with length ${key.length} instead.`,
          params: { code: 'property_name_above_max_length' },
        });
        return;
      }
      if (typeof item !== 'string') {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Invalid type for 'metadata.${key}': expected a string, but got ${Number.isInteger(item) ? 'an integer' : typeof item} instead.`,
          params: { code: 'invalid_type' },
        });
        return;
      }
      if (item.length > METADATA_VALUE_MAX) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Invalid 'metadata.${key}': string too long. Expected a string with maximum length ${METADATA_VALUE_MAX}, but got a string with length ${item.length} instead.`,
          params: { code: 'string_above_max_length' },
        });
        return;
      }
    }
  })
  .transform((value) => value as Record<string, string>);

const functionName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-zA-Z0-9_-]+$/, 'must contain only a-z, A-Z, 0-9, underscores and dashes');

export const functionToolSchema = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: functionName,
    description: z.string().max(8192).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const builtinToolType = z.string().refine(isBuiltinToolType, { message: 'unknown tool type' });

export const toolSchema = z.union([
  functionToolSchema,
  z.strictObject({ type: z.literal('code_interpreter') }),
  z.strictObject({
    type: z.literal('file_search'),
    file_search: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ type: builtinToolType }),
]);

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: functionName }) }),
  z.strictObject({ type: z.enum(['code_interpreter', 'file_search']) }),
]);

export const responseFormatSchema = z.union([
  z.literal('auto'),
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: functionName,
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

export const truncationStrategySchema = z.strictObject({
  type: z.enum(['auto', 'last_messages']),
  last_messages: z.number().int().min(1).max(MAX_INTEGER).nullable().optional(),
});

const detail = z.enum(['auto', 'low', 'high']).optional();

function contentPartSchema(maxChars: number) {
  return z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('text'), text: z.string().max(maxChars) }),
    z.strictObject({
      type: z.literal('image_file'),
      image_file: z.strictObject({ file_id: z.string(), detail }),
    }),
    z.strictObject({ type: z.literal('image_url'), image_url: z.strictObject({ url: z.url(), detail }) }),
  ]);
}

/** A message as clients send it; `maxChars` bounds a string content and every text part. */
export function createMessageSchema(maxChars: number) {
  return z.strictObject({
    role: z.enum(['user', 'assistant']),
    content: z.union([z.string().max(maxChars), z.array(contentPartSchema(maxChars)).min(1).max(100)]),
    attachments: z
      .array(
        z.strictObject({
          file_id: z.string().optional(),
          tools: z.array(z.record(z.string(), z.unknown())).optional(),
        }),
      )
      .nullable()
      .optional(),
    metadata: metadataSchema.nullable().optional(),
  });
}

export type CreateMessageInput = z.infer<ReturnType<typeof createMessageSchema>>;

/**
 * An assistant's or thread's tool resources, as OpenAI's API took them: at most one vector store for file_search,
 * named by id or made from files (`vector_stores`); other keys are kept as given.
 */
export const toolResourcesSchema = z
  .looseObject({
    code_interpreter: z.looseObject({ file_ids: z.array(z.string()).max(20).optional() }).optional(),
    file_search: z
      .looseObject({
        vector_store_ids: z.array(z.string()).max(1).optional(),
        vector_stores: z
          .array(
            z.strictObject({
              file_ids: z.array(z.string()).max(10_000).optional(),
              chunking_strategy: chunkingStrategySchema.optional(),
              metadata: metadataSchema.nullable().optional(),
            }),
          )
          .max(1)
          .optional(),
      })
      .refine((value) => (value.vector_store_ids?.length ?? 0) + (value.vector_stores?.length ?? 0) <= 1, {
        message: 'file_search takes at most one vector store.',
      })
      .optional(),
  })
  .nullable()
  .optional();

export type ToolResourcesInput = z.infer<typeof toolResourcesSchema>;

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
});

export type ListQuery = z.infer<typeof listQuerySchema>;
