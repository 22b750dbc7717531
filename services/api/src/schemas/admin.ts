// Schemas of the admin endpoints: projects, keys (the catalog import's is the shared `catalogImportSchema`) and the
// answers.
import type { CatalogImportResult } from '@threadwork/shared/catalog';
import { z } from 'zod';
import type { ApiKeyObject, CreatedKey } from '../services/api-keys.js';
import type { ProjectObject } from '../services/projects.js';

const keyName = z.string().min(1).max(200);
const keyRole = z.enum(['admin', 'server']);
const expiresAt = z
  .number()
  .int()
  .positive()
  .max(253_402_300_799)
  .nullable()
  .optional()
  .describe('When the key stops working, in unix seconds; absent or null: never.');

/** `POST /admin/keys`: a key of the default project. `user`, the role's former name, makes a server key. */
export const createKeySchema = z.strictObject({
  name: keyName,
  role: z
    .enum(['user', 'server', 'admin'])
    .default('server')
    .transform((role) => (role === 'user' ? 'server' : role)),
  expires_at: expiresAt,
});

export type CreateKeyInput = z.infer<typeof createKeySchema>;

/** `POST /admin/projects/{id}/keys`. */
export const createProjectKeySchema = z.strictObject({
  name: keyName,
  role: keyRole.default('server'),
  expires_at: expiresAt,
});

export type CreateProjectKeyInput = z.infer<typeof createProjectKeySchema>;

const keyFields = {
  id: z.string(),
  object: z.literal('key'),
  name: z.string(),
  role: keyRole,
  project_id: z.string(),
  created_at: z.number().int(),
  expires_at: z.number().int().nullable(),
};

export const createdKeySchema = z.object({
  ...keyFields,
  key: z.string().describe('The key itself: shown only in this answer.'),
}) satisfies z.ZodType<CreatedKey>;

export const apiKeyListSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object(keyFields) satisfies z.ZodType<ApiKeyObject>),
});

export const createProjectSchema = z.strictObject({ name: z.string().min(1).max(200) });

export type CreateProjectInput = z.infer<typeof createProjectSchema>;

export const projectSchema = z.object({
  id: z.string(),
  object: z.literal('project'),
  name: z.string(),
  created_at: z.number().int(),
}) satisfies z.ZodType<ProjectObject>;

export const projectListSchema = z.object({ object: z.literal('list'), data: z.array(projectSchema) });

export const catalogImportResultSchema = z.object({
  status: z.enum(['imported', 'skipped']),
  count: z.number().int(),
  hash: z.string(),
}) satisfies z.ZodType<CatalogImportResult>;
