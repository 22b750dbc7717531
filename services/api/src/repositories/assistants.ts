// Data access for assistants: the owner (or a shared assistant) in every where.
// Shared assistants have no owner: admins create and manage them, users see and run them.

import { type AssistantRow, assistantRowVersion, type Db, schema } from '@threadwork/shared';
import { and, eq, getTableColumns, isNull, or, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import type { AssistantSnapshot } from '../runs/assistant-snapshots.js';

const { assistants } = schema;

export type NewAssistant = typeof assistants.$inferInsert;

export function assistantsVisibleTo(principal: Principal): SQL | undefined {
  if (principal.role === 'admin') return undefined;
  return or(eq(assistants.ownerId, principal.keyId), isNull(assistants.ownerId));
}

function ownedBy(principal: Principal): SQL | undefined {
  if (principal.role === 'admin') return undefined;
  return eq(assistants.ownerId, principal.keyId);
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
