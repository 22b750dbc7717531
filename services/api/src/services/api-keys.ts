// API keys (admin): a new key is shown once; a revoked key stops working on every API process at once.
import { type ApiKeyRole, newId, notFound, unixSeconds } from '@threadwork/shared';
import { generateKey, hashKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { insertApiKey, listLiveApiKeys, revokeApiKey } from '../repositories/api-keys.js';
import type { CreateKeyInput } from '../schemas/admin.js';

export interface CreatedKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  key: string;
}

export interface ApiKeyObject {
  id: string;
  name: string;
  role: ApiKeyRole;
  created_at: number;
}

export async function createApiKey(deps: AppDeps, input: CreateKeyInput): Promise<CreatedKey> {
  const key = generateKey();
  const id = newId('apiKey');
  await insertApiKey(deps.db, { id, name: input.name, role: input.role, keyHash: hashKey(key) });
  return { id, name: input.name, role: input.role, key };
}

export async function listApiKeys(deps: AppDeps): Promise<{ object: 'list'; data: ApiKeyObject[] }> {
  const rows = await listLiveApiKeys(deps.db);
  return {
    object: 'list',
    data: rows.map((row) => ({
      id: row.id,
      name: row.name,
      role: row.role,
      created_at: unixSeconds(row.createdAt),
    })),
  };
}

export async function revokeKey(deps: AppDeps, keyId: string): Promise<void> {
  if (!(await revokeApiKey(deps.db, keyId))) throw notFound('key', keyId);
  await deps.keys.revoke(deps.redis, keyId);
}
