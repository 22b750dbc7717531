// API keys (admin): keys belong to a project; a new key is shown once; a revoked key stops working on every API
// process at once. Rotating a key (a new one, then the old revoked) keeps every thread: the project owns them.
import { ApiError, type ApiKeyRole, newId, notFound, schema, unixSeconds } from '@threadwork/shared';
import { generateKey, hashKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { insertApiKey, listLiveApiKeys, revokeApiKey } from '../repositories/api-keys.js';
import type { CreateKeyInput, CreateProjectKeyInput } from '../schemas/admin.js';

export interface ApiKeyObject {
  id: string;
  object: 'key';
  name: string;
  role: ApiKeyRole;
  project_id: string;
  created_at: number;
  expires_at: number | null;
}

export interface CreatedKey extends ApiKeyObject {
  key: string;
}

interface KeyRow {
  id: string;
  name: string;
  role: ApiKeyRole;
  projectId: string;
  createdAt: Date;
  expiresAt: Date | null;
}

function toKeyObject(row: KeyRow): ApiKeyObject {
  return {
    id: row.id,
    object: 'key',
    name: row.name,
    role: row.role,
    project_id: row.projectId,
    created_at: unixSeconds(row.createdAt),
    expires_at: unixSeconds(row.expiresAt),
  };
}

function expiryOf(expiresAt: number | null | undefined): Date | null {
  if (expiresAt === undefined || expiresAt === null) return null;
  if (expiresAt * 1000 <= Date.now()) {
    throw new ApiError(400, "Invalid 'expires_at': the time has passed.", { param: 'expires_at' });
  }
  return new Date(expiresAt * 1000);
}

/** A key of the project; an admin key made through `POST /admin/keys` is an admin of the deployment, as before. */
async function createKey(
  deps: AppDeps,
  projectId: string,
  input: CreateProjectKeyInput,
  isDeploymentAdmin: boolean,
): Promise<CreatedKey> {
  const key = generateKey();
  const row = await insertApiKey(deps.db, {
    id: newId('apiKey'),
    projectId,
    name: input.name,
    role: input.role,
    keyHash: hashKey(key),
    isDeploymentAdmin,
    expiresAt: expiryOf(input.expires_at),
  });
  return { ...toKeyObject(row), key };
}

export function createApiKey(deps: AppDeps, input: CreateKeyInput): Promise<CreatedKey> {
  return createKey(deps, schema.DEFAULT_PROJECT_ID, input, input.role === 'admin');
}

export function createProjectKey(
  deps: AppDeps,
  projectId: string,
  input: CreateProjectKeyInput,
): Promise<CreatedKey> {
  return createKey(deps, projectId, input, false);
}

export async function listApiKeys(
  deps: AppDeps,
  projectId?: string,
): Promise<{ object: 'list'; data: ApiKeyObject[] }> {
  const rows = await listLiveApiKeys(deps.db, projectId);
  return { object: 'list', data: rows.map(toKeyObject) };
}

/** Revokes a live key (of the project, when one is given); other API processes forget it at once. */
export async function revokeKey(deps: AppDeps, keyId: string, projectId?: string): Promise<void> {
  if (!(await revokeApiKey(deps.db, keyId, projectId))) throw notFound('key', keyId);
  await deps.keys.revoke(deps.redis, keyId);
}
