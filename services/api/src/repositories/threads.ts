// Data access for threads and their messages: a project sees only its own threads, an end user only its own.

import {
  ApiError,
  activeStatuses,
  type Db,
  type MessageRow,
  notFound,
  schema,
  type ThreadRow,
} from '@threadwork/shared';
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth.js';

const { threads, messages, runs } = schema;

export type NewThread = typeof threads.$inferInsert;
export type NewMessage = typeof messages.$inferInsert;

/** The project's threads; for an end user, only its own. */
export function threadsOwnedBy(principal: Principal): SQL | undefined {
  const project = eq(threads.ownerId, principal.projectId);
  return principal.endUserId === null ? project : and(project, eq(threads.endUserId, principal.endUserId));
}

/** What a statement needs to write through a CTE: the client or a transaction. */
type Writer = Pick<Db, 'insert' | 'with' | '$with'>;

/** The CTE that inserts messages along with the statement it is attached to (foreign keys hold at its end). */
function insertingMessages(db: Writer, rows: NewMessage[]) {
  return db.$with('inserted_messages').as(db.insert(messages).values(rows).returning({ id: messages.id }));
}

/** A thread and its first messages in one statement. */
export async function insertThread(db: Writer, thread: NewThread, initial: NewMessage[]): Promise<ThreadRow> {
  const [row] =
    initial.length > 0
      ? await db.with(insertingMessages(db, initial)).insert(threads).values(thread).returning()
      : await db.insert(threads).values(thread).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findThread(db: Db, principal: Principal, id: string): Promise<ThreadRow | null> {
  const [row] = await db
    .select()
    .from(threads)
    .where(and(eq(threads.id, id), threadsOwnedBy(principal)));
  return row ?? null;
}

/** The caller's thread; another user's answers 404 as if it did not exist. */
export async function ownedThread(
  db: Db,
  principal: Principal,
  threadId: string,
  param: string | null = null,
): Promise<ThreadRow> {
  const thread = await findThread(db, principal, threadId);
  if (!thread) throw new ApiError(404, notFound('thread', threadId).message, { param });
  return thread;
}

export async function updateThread(db: Db, id: string, patch: Partial<NewThread>): Promise<ThreadRow | null> {
  const [row] = await db.update(threads).set(patch).where(eq(threads.id, id)).returning();
  return row ?? null;
}

export async function deleteThread(db: Db, id: string): Promise<void> {
  await db.delete(threads).where(eq(threads.id, id));
}

/** Marks the thread active now and, when given, stores its tool resources. */
export async function touchThread(
  db: Pick<Db, 'update'>,
  id: string,
  toolResources?: Record<string, unknown>,
): Promise<void> {
  await db.update(threads).set({ lastActivityAt: new Date(), toolResources }).where(eq(threads.id, id));
}

export async function activeRunId(db: Pick<Db, 'select'>, threadId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.threadId, threadId), inArray(runs.status, activeStatuses)));
  return row?.id ?? null;
}

/** The thread's unfinished runs, the one running and those waiting behind it, newest first. */
export async function unfinishedRunIds(db: Pick<Db, 'select'>, threadId: string): Promise<string[]> {
  const rows = await db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.threadId, threadId), inArray(runs.status, activeStatuses)))
    .orderBy(desc(runs.id));
  return rows.map((row) => row.id);
}

export async function insertMessages(db: Pick<Db, 'insert'>, rows: NewMessage[]): Promise<MessageRow[]> {
  if (rows.length === 0) return [];
  return db.insert(messages).values(rows).returning();
}

export async function findMessage(db: Db, threadId: string, id: string): Promise<MessageRow | null> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.threadId, threadId)));
  return row ?? null;
}

export async function updateMessageMetadata(
  db: Db,
  threadId: string,
  id: string,
  metadata: Record<string, string>,
): Promise<MessageRow | null> {
  const [row] = await db
    .update(messages)
    .set({ metadata })
    .where(and(eq(messages.id, id), eq(messages.threadId, threadId)))
    .returning();
  return row ?? null;
}

/** Answers whether the message was there to delete. */
export async function deleteMessage(db: Db, threadId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(messages)
    .where(and(eq(messages.id, id), eq(messages.threadId, threadId)))
    .returning({ id: messages.id });
  return rows.length > 0;
}
