// Data access for projects (admin): a project's rows cascade from it (its chunks are deleted with it), so deleting it
// deletes everything it owns.
import { type Db, schema } from '@threadwork/shared';
import { and, asc, eq, inArray, isNotNull, ne } from 'drizzle-orm';

const { apiKeys, projects, vectorStoreChunks } = schema;

export type ProjectRow = typeof projects.$inferSelect;

export async function insertProject(db: Db, project: typeof projects.$inferInsert): Promise<ProjectRow> {
  const [row] = await db.insert(projects).values(project).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findProject(db: Db, id: string): Promise<ProjectRow | null> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row ?? null;
}

export async function updateProject(
  db: Db,
  id: string,
  patch: Partial<ProjectRow>,
): Promise<ProjectRow | null> {
  const [row] = await db.update(projects).set(patch).where(eq(projects.id, id)).returning();
  return row ?? null;
}

/** The projects (all, or the ones named), oldest first. */
export function listProjectRows(db: Db, ids?: string[]): Promise<ProjectRow[]> {
  return db
    .select()
    .from(projects)
    .where(ids === undefined ? undefined : inArray(projects.id, ids))
    .orderBy(asc(projects.createdAt), asc(projects.id));
}

/** The tools databases other projects than `exceptId` have of their own. */
export async function listToolsDatabaseUrls(db: Db, exceptId: string): Promise<string[]> {
  const rows = await db
    .select({ url: projects.toolsDatabaseUrl })
    .from(projects)
    .where(and(ne(projects.id, exceptId), isNotNull(projects.toolsDatabaseUrl)));
  return rows.flatMap((row) => (row.url === null ? [] : [row.url]));
}

/** Deletes the project and everything it owns; answers the ids of its keys, or null when there was no project. */
export function deleteProjectRow(db: Db, id: string): Promise<string[] | null> {
  return db.transaction(async (tx) => {
    const keys = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.projectId, id));
    // Every other row of the project goes with it by foreign key; its files' chunks have none (see chunk-store.ts).
    await tx.delete(vectorStoreChunks).where(eq(vectorStoreChunks.projectId, id));
    const deleted = await tx.delete(projects).where(eq(projects.id, id)).returning({ id: projects.id });
    return deleted.length > 0 ? keys.map((key) => key.id) : null;
  });
}
