// Data access for assistants: the owner (or a shared assistant) in every where.
// Shared assistants have no owner: admins create and manage them, users see and run them.

import { type AssistantRow, type Db, schema } from '@threadwork/shared';
import { and, eq, isNull, or, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth.js';

const { assistants } = schema;

export type NewAssistant = typeof assistants.$inferInsert;

function visibleTo(principal: Principal): SQL | undefined {
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

export async function findAssistant(db: Db, principal: Principal, id: string): Promise<AssistantRow | null> {
  const [row] = await db
    .select()
    .from(assistants)
    .where(and(eq(assistants.id, id), visibleTo(principal)));
  return row ?? null;
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

export function assistantsVisibleTo(principal: Principal): SQL | undefined {
  return visibleTo(principal);
}
