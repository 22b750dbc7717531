// Schemas of the admin endpoints: the key request (the catalog import's is the shared `catalogImportSchema`) and
// the answers.
import type { CatalogImportResult } from '@threadwork/shared/catalog';
import { z } from 'zod';
import type { ApiKeyObject, CreatedKey } from '../services/api-keys.js';

export const createKeySchema = z.strictObject({
  name: z.string().min(1).max(200),
  role: z.enum(['user', 'admin']).default('user'),
});

export type CreateKeyInput = z.infer<typeof createKeySchema>;

export const createdKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['user', 'admin']),
  key: z.string().describe('The key itself: shown only in this answer.'),
}) satisfies z.ZodType<CreatedKey>;

export const apiKeyListSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.enum(['user', 'admin']),
      created_at: z.number().int(),
    }) satisfies z.ZodType<ApiKeyObject>,
  ),
});

export const catalogImportResultSchema = z.object({
  status: z.enum(['imported', 'skipped']),
  count: z.number().int(),
  hash: z.string(),
}) satisfies z.ZodType<CatalogImportResult>;
