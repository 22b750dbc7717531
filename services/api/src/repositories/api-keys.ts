// Data access for API keys (admin): only a key's hash is stored; a revoked key stays as a row with `revoked_at`.
import { type Db, schema } from '@threadwork/shared';
import { and, desc, eq, isNull, type SQL } from 'drizzle-orm';

const { apiKeys } = schema;

export type NewApiKey = typeof apiKeys.$inferInsert;

export async function insertApiKey(db: Db, key: NewApiKey): Promise<typeof apiKeys.$inferSelect> {
  const [row] = await db.insert(apiKeys).values(key).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Keys not revoked (of one project, or of all), newest first. */
export function listLiveApiKeys(db: Db, projectId?: string) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      role: apiKeys.role,
      projectId: apiKeys.projectId,
      createdAt: apiKeys.createdAt,
      expiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .where(
      and(isNull(apiKeys.revokedAt), projectId === undefined ? undefined : eq(apiKeys.projectId, projectId)),
    )
    .orderBy(desc(apiKeys.id));
}

/** Answers whether a live key (of the project, when one is given) was revoked. */
export async function revokeApiKey(db: Db, id: string, projectId?: string): Promise<boolean> {
  const inProject: SQL | undefined = projectId === undefined ? undefined : eq(apiKeys.projectId, projectId);
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt), inProject))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
