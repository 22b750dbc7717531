// Data access for assistants: the owner (or a shared assistant) in every where.
// Shared assistants have no owner: admins create and manage them, users see and run them.

import { type AssistantRow, type Db, prepared, schema } from '@threadwork/shared';
import { and, eq, getTableColumns, isNull, or, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import type { AssistantSnapshot } from '../runs/assistant-snapshots.js';

const { assistants } = schema;

export type NewAssistant = typeof assistants.$inferInsert;

export function assistantsVisibleTo(principal: {
  role: Principal['role'];
  keyId: string | Placeholder;
}): SQL | undefined {
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

function visibleById(role: Principal['role']): SQL | undefined {
  return and(
    eq(assistants.id, sql.placeholder('id')),
    assistantsVisibleTo({ role, keyId: sql.placeholder('keyId') }),
  );
}

/** One prepared statement per role: an admin sees every assistant, a user its own and the shared ones. */
function assistantVisibleTo(db: Db, role: Principal['role']) {
  return prepared(db, `assistant_visible_to_${role}`, (name) =>
    db.select().from(assistants).where(visibleById(role)).prepare(name),
  );
}

export async function findAssistant(db: Db, principal: Principal, id: string): Promise<AssistantRow | null> {
  const [row] = await assistantVisibleTo(db, principal.role).execute({ id, keyId: principal.keyId });
  return row ?? null;
}

/** The row version a run's statement checks (`assistantVersionIs`): Postgres's xmin, which every update changes. */
export const rowVersion = sql<string>`${assistants}.xmin::text`;

function assistantSnapshotVisibleTo(db: Db, role: Principal['role']) {
  return prepared(db, `assistant_snapshot_visible_to_${role}`, (name) =>
    db
      .select({ row: getTableColumns(assistants), version: rowVersion })
      .from(assistants)
      .where(visibleById(role))
      .prepare(name),
  );
}

/** An assistant the caller may see, with its row version. */
export async function findAssistantSnapshot(
  db: Db,
  principal: Principal,
  id: string,
): Promise<AssistantSnapshot | null> {
  const [found] = await assistantSnapshotVisibleTo(db, principal.role).execute({
    id,
    keyId: principal.keyId,
  });
  return found ?? null;
}

/** The assistant's id while its row is still at `version` (placeholders `assistantId`, `assistantVersion`), else null. */
export function assistantIdAtVersion(db: Db): SQL {
  return sql`(${db
    .select({ id: assistants.id })
    .from(assistants)
    .where(
      and(
        eq(assistants.id, sql.placeholder('assistantId')),
        sql`${rowVersion} = ${sql.placeholder('assistantVersion')}`,
      ),
    )})`;
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
