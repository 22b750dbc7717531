// Data access for API keys (admin): only a key's hash is stored; a revoked key stays as a row with `revoked_at`.
import { type ApiKeyRole, type Db, schema } from '@threadwork/shared';
import { and, desc, eq, isNull } from 'drizzle-orm';

const { apiKeys } = schema;

export async function insertApiKey(
  db: Db,
  key: { id: string; name: string; role: ApiKeyRole; keyHash: string },
): Promise<void> {
  await db.insert(apiKeys).values(key);
}

/** Keys not revoked, newest first. */
export function listLiveApiKeys(db: Db) {
  return db
    .select({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, createdAt: apiKeys.createdAt })
    .from(apiKeys)
    .where(isNull(apiKeys.revokedAt))
    .orderBy(desc(apiKeys.id));
}

/** Answers whether a live key was revoked. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
