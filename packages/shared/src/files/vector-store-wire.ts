// Vector-store contracts shared by the API, the ingest worker and retrieval: statuses, errors, attributes,
// chunking strategies and attribute filters, with the zod schemas that check them at the API's boundary.
import { z } from 'zod';

export type VectorStoreFileStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

/** Why a file's ingestion failed, as `last_error` shows it. */
export interface IngestError {
  code: 'server_error' | 'unsupported_file' | 'invalid_file';
  message: string;
}

export type AttributeValue = string | number | boolean;
export type FileAttributes = Record<string, AttributeValue>;

const ATTRIBUTES_MAX_PAIRS = 16;
const ATTRIBUTE_KEY_MAX = 64;
const ATTRIBUTE_VALUE_MAX = 512;

export const fileAttributesSchema = z
  .record(
    z.string().min(1).max(ATTRIBUTE_KEY_MAX),
    z.union([z.string().max(ATTRIBUTE_VALUE_MAX), z.number(), z.boolean()]),
  )
  .refine((value) => Object.keys(value).length <= ATTRIBUTES_MAX_PAIRS, {
    message: `at most ${ATTRIBUTES_MAX_PAIRS} attributes`,
  });

/** How a file's text is cut: windows of `max_chunk_size_tokens` that overlap by `chunk_overlap_tokens`. */
export interface StaticChunking {
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
}

/** `auto`, as OpenAI's: 800-token chunks overlapping by 400. */
export const AUTO_CHUNKING: StaticChunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 };

export const chunkingStrategySchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('auto') }),
    z.strictObject({
      type: z.literal('static'),
      static: z
        .strictObject({
          max_chunk_size_tokens: z.number().int().min(100).max(4096),
          chunk_overlap_tokens: z.number().int().min(0),
        })
        .refine((value) => value.chunk_overlap_tokens <= value.max_chunk_size_tokens / 2, {
          message: 'chunk_overlap_tokens must not exceed half of max_chunk_size_tokens',
          path: ['chunk_overlap_tokens'],
        }),
    }),
  ])
  .transform((strategy): StaticChunking => (strategy.type === 'auto' ? AUTO_CHUNKING : strategy.static));

export type ComparisonFilter = {
  type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
  key: string;
  value: AttributeValue | AttributeValue[];
};
export type CompoundFilter = { type: 'and' | 'or'; filters: AttributeFilter[] };
/** A condition on files' attributes, as `filters` of a search. */
export type AttributeFilter = ComparisonFilter | CompoundFilter;

const comparisonFilterSchema = z.strictObject({
  type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']),
  key: z.string().min(1).max(ATTRIBUTE_KEY_MAX),
  value: z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.array(z.union([z.string(), z.number(), z.boolean()])),
  ]),
});

export const attributeFilterSchema: z.ZodType<AttributeFilter> = z.lazy(() =>
  z.union([
    comparisonFilterSchema,
    z.strictObject({ type: z.enum(['and', 'or']), filters: z.array(attributeFilterSchema).min(1).max(20) }),
  ]),
);
