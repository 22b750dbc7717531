// The project settings the tool worker reads: a project's own tools database.
import { type Db, schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';

/** The project's `tools_database_url`; null when it has none (or no longer exists). */
export async function projectToolsDatabaseUrl(db: Db, projectId: string): Promise<string | null> {
  const { projects } = schema;
  const [row] = await db
    .select({ url: projects.toolsDatabaseUrl })
    .from(projects)
    .where(eq(projects.id, projectId));
  return row?.url ?? null;
}
