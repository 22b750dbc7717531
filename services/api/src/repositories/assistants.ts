// Data access for assistants: the owner (or a shared assistant) in every where.
// Shared assistants have no owner: deployment admins create and manage them, every project sees and runs them.

import { type AssistantRow, assistantRowVersion, type Db, schema } from '@threadwork/shared';
import { and, eq, getTableColumns, isNull, or, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import type { AssistantSnapshot } from '../runs/assistant-snapshots.js';

const { assistants } = schema;

export type NewAssistant = typeof assistants.$inferInsert;

/** The project's assistants and the shared ones. */
export function assistantsVisibleTo(principal: Principal): SQL | undefined {
  return or(eq(assistants.ownerId, principal.projectId), isNull(assistants.ownerId));
}

/** What the caller may change: its project's assistants, and the shared ones for an admin of the deployment. */
function ownedBy(principal: Principal): SQL | undefined {
  return principal.isDeploymentAdmin
    ? assistantsVisibleTo(principal)
    : eq(assistants.ownerId, principal.projectId);
}

export async function insertAssistant(db: Db, values: NewAssistant): Promise<AssistantRow> {
  const [row] = await db.insert(assistants).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

function visibleById(principal: Principal, id: string): SQL | undefined {
  return and(eq(assistants.id, id), assistantsVisibleTo(principal));
}

export async function findAssistant(db: Db, principal: Principal, id: string): Promise<AssistantRow | null> {
  const [row] = await db.select().from(assistants).where(visibleById(principal, id));
  return row ?? null;
}

/** The row version a run's statement checks (`assistantVersionIs`): Postgres's xmin, which every update changes. */

/** An assistant the caller may see, with its row version. */
export async function findAssistantSnapshot(
  db: Db,
  principal: Principal,
  id: string,
): Promise<AssistantSnapshot | null> {
  const [found] = await db
    .select({ row: getTableColumns(assistants), version: assistantRowVersion })
    .from(assistants)
    .where(visibleById(principal, id));
  return found ?? null;
}

export async function updateAssistant(
  db: Db,
  principal: Principal,
  id: string,
  patch: Partial<NewAssistant>,
): Promise<AssistantRow | null> {
  const [row] = await db
    .update(assistants)
    .set(patch)
    .where(and(eq(assistants.id, id), ownedBy(principal)))
    .returning();
  return row ?? null;
}

export async function deleteAssistant(db: Db, principal: Principal, id: string): Promise<boolean> {
  const rows = await db
    .delete(assistants)
    .where(and(eq(assistants.id, id), ownedBy(principal)))
    .returning({ id: assistants.id });
  return rows.length > 0;
}
