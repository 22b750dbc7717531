// Schemas of the admin endpoints: projects, keys (the catalog import's is the shared `catalogImportSchema`) and the
// answers.

import { builtinToolTypes } from '@threadwork/shared';
import type { CatalogImportResult } from '@threadwork/shared/catalog';
import { z } from 'zod';
import type { ApiKeyObject, CreatedKey } from '../services/api-keys.js';
import type { CatalogObject } from '../services/catalog.js';
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

/** How the project verifies its end users' tokens; null clears a setting. */
const endUserAuthSchema = z.strictObject({
  jwt_secret: z
    .string()
    .min(16)
    .max(1000)
    .nullable()
    .optional()
    .describe("An HS256 secret (Supabase's JWT secret as is); never shown again."),
  jwks_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullable()
    .optional(),
  issuer: z.string().min(1).max(500).nullable().optional(),
  audience: z.string().min(1).max(500).nullable().optional().describe('Supabase: `authenticated`.'),
});

export type EndUserAuthInput = z.infer<typeof endUserAuthSchema>;

export const createProjectSchema = z.strictObject({
  name: z.string().min(1).max(200),
  end_user_auth: endUserAuthSchema.optional(),
});

export type CreateProjectInput = z.infer<typeof createProjectSchema>;

/** The URL, or null when it is none (zod's own check reports that; refinements still run after it). */
function parsedUrl(value: string): URL | null {
  return URL.canParse(value) ? new URL(value) : null;
}

export const modifyProjectSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  end_user_auth: endUserAuthSchema.optional(),
  tools_database_url: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .max(2000)
    .refine((url) => parsedUrl(url)?.hostname !== '', 'must name a host')
    .refine((url) => (parsedUrl(url)?.pathname.length ?? 2) > 1, 'must name a database')
    .nullable()
    .optional()
    .describe(
      "The project's own database for its SQL tools (deployment admin only); null: the deployment's. Never shown again with its password.",
    ),
  disabled_tools: z
    .array(z.enum(builtinToolTypes))
    .max(builtinToolTypes.length)
    .optional()
    .describe('Built-in tools this project turns off (replaces the list); the deployment may turn off more.'),
});

export type ModifyProjectInput = z.infer<typeof modifyProjectSchema>;

export const projectSchema = z.object({
  id: z.string(),
  object: z.literal('project'),
  name: z.string(),
  created_at: z.number().int(),
  end_user_auth: z.object({
    has_jwt_secret: z.boolean(),
    jwks_url: z.string().nullable(),
    issuer: z.string().nullable(),
    audience: z.string().nullable(),
  }),
  tools_database_url: z
    .string()
    .nullable()
    .describe("The project's own tools database, its password masked; null: the deployment's."),
  disabled_tools: z.array(z.string()),
}) satisfies z.ZodType<ProjectObject>;

export const projectListSchema = z.object({ object: z.literal('list'), data: z.array(projectSchema) });

export const catalogImportResultSchema = z.object({
  status: z.enum(['imported', 'skipped']),
  count: z.number().int(),
  hash: z.string(),
}) satisfies z.ZodType<CatalogImportResult>;

export const catalogSchema = z.object({
  object: z.literal('catalog'),
  project_id: z.string(),
  product_count: z.number().int(),
  hash: z.string().nullable().describe('The content hash of the last import; null before the first.'),
  imported_at: z.number().int().nullable(),
}) satisfies z.ZodType<CatalogObject>;
