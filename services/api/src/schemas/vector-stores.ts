// Request and response schemas of /v1/vector_stores, its files, file batches and search.
import {
  attributeFilterSchema,
  chunkingStrategySchema,
  fileAttributesSchema,
} from '@threadwork/shared/files/vector-store-wire';
import { z } from 'zod';
import { metadataSchema } from './common.js';
import { responseObjects } from './objects.js';

const unixTime = z.number().int().describe('Unix time in seconds');
const fileId = z.string().min(1).max(100);

const expiresAfterSchema = z.strictObject({
  anchor: z.literal('last_active_at'),
  days: z.number().int().min(1).max(365),
});

export const createVectorStoreSchema = z.strictObject({
  name: z.string().max(256).optional(),
  description: z.string().max(512).optional(),
  file_ids: z.array(fileId).max(500).optional(),
  chunking_strategy: chunkingStrategySchema.optional(),
  expires_after: expiresAfterSchema.optional(),
  metadata: metadataSchema.nullable().optional(),
});

export const modifyVectorStoreSchema = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  expires_after: expiresAfterSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
});

export type CreateVectorStoreInput = z.infer<typeof createVectorStoreSchema>;
export type ModifyVectorStoreInput = z.infer<typeof modifyVectorStoreSchema>;

export const addStoreFileSchema = z.strictObject({
  file_id: fileId,
  attributes: fileAttributesSchema.nullable().optional(),
  chunking_strategy: chunkingStrategySchema.optional(),
});

export type AddStoreFileInput = z.infer<typeof addStoreFileSchema>;

export const updateStoreFileSchema = z.strictObject({ attributes: fileAttributesSchema.nullable() });

export const createFileBatchSchema = z
  .strictObject({
    file_ids: z.array(fileId).min(1).max(500).optional(),
    files: z
      .array(
        z.strictObject({
          file_id: fileId,
          attributes: fileAttributesSchema.nullable().optional(),
          chunking_strategy: chunkingStrategySchema.optional(),
        }),
      )
      .min(1)
      .max(500)
      .optional(),
    attributes: fileAttributesSchema.nullable().optional(),
    chunking_strategy: chunkingStrategySchema.optional(),
  })
  .refine((body) => (body.file_ids === undefined) !== (body.files === undefined), {
    message: "Provide exactly one of 'file_ids' and 'files'.",
    path: ['file_ids'],
  });

export type CreateFileBatchInput = z.infer<typeof createFileBatchSchema>;

export const storeFileStatusSchema = z.enum(['in_progress', 'completed', 'failed', 'cancelled']);

export const listStoreFilesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
  filter: storeFileStatusSchema.optional(),
});

export type ListStoreFilesQuery = z.infer<typeof listStoreFilesQuerySchema>;

export const searchVectorStoreSchema = z.strictObject({
  query: z.union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(10)]),
  max_num_results: z.number().int().min(1).max(50).default(10),
  ranking_options: z
    .strictObject({
      ranker: z.enum(['none', 'auto', 'default-2024-11-15']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  filters: attributeFilterSchema.optional(),
  /** Accepted and ignored: the query is searched as written. */
  rewrite_query: z.boolean().optional(),
});

export type SearchVectorStoreInput = z.infer<typeof searchVectorStoreSchema>;

const fileCountsSchema = z.object({
  in_progress: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  total: z.number().int(),
});

export type FileCounts = z.infer<typeof fileCountsSchema>;

const attributesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable();

export const vectorStoreObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('vector_store'),
    created_at: unixTime,
    name: z.string(),
    description: z.string().nullable(),
    usage_bytes: z.number().int(),
    file_counts: fileCountsSchema,
    status: z.enum(['expired', 'in_progress', 'completed']),
    expires_after: expiresAfterSchema.nullable(),
    expires_at: unixTime.nullable(),
    last_active_at: unixTime,
    metadata: z.record(z.string(), z.string()),
  })
  .register(responseObjects, { id: 'VectorStoreObject' });

export type VectorStoreObject = z.infer<typeof vectorStoreObjectSchema>;

export const vectorStoreFileObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('vector_store.file'),
    created_at: unixTime,
    vector_store_id: z.string(),
    status: storeFileStatusSchema,
    usage_bytes: z.number().int(),
    last_error: z
      .object({ code: z.enum(['server_error', 'unsupported_file', 'invalid_file']), message: z.string() })
      .nullable(),
    chunking_strategy: z.object({
      type: z.literal('static'),
      static: z.object({ max_chunk_size_tokens: z.number().int(), chunk_overlap_tokens: z.number().int() }),
    }),
    attributes: attributesSchema,
  })
  .register(responseObjects, { id: 'VectorStoreFileObject' });

export type VectorStoreFileObject = z.infer<typeof vectorStoreFileObjectSchema>;

export const fileBatchObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('vector_store.files_batch'),
    created_at: unixTime,
    vector_store_id: z.string(),
    status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']),
    file_counts: fileCountsSchema,
  })
  .register(responseObjects, { id: 'VectorStoreFileBatchObject' });

export type FileBatchObject = z.infer<typeof fileBatchObjectSchema>;

export const searchResultsPageSchema = z
  .object({
    object: z.literal('vector_store.search_results.page'),
    search_query: z.array(z.string()),
    data: z.array(
      z.object({
        file_id: z.string(),
        filename: z.string(),
        score: z.number(),
        attributes: attributesSchema,
        content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
      }),
    ),
    has_more: z.boolean(),
    next_page: z.string().nullable(),
  })
  .register(responseObjects, { id: 'VectorStoreSearchResultsPage' });

export type SearchResultsPage = z.infer<typeof searchResultsPageSchema>;
