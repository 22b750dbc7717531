// The caller's chat threads: listed by latest activity with the last message, one reused thread per assistant.

import { type Db, newId, schema, type ThreadRow, unixSeconds } from '@threadwork/shared';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { ThreadOwner } from '../auth.js';
import type { CursorListQuery } from '../schemas/chat.js';
import { type CursorPage, olderThanCursor, toCursorPage } from './cursor.js';
import { insertThread } from './threads.js';

const { threads, messages } = schema;

const PREVIEW_CHARS = 200;

export interface ChatThread {
  id: string;
  object: 'chat.thread';
  assistant_id: string | null;
  created_at: number;
  last_interaction_at: number;
  metadata: Record<string, string>;
  last_message: { id: string; role: 'user' | 'assistant'; preview: string; created_at: number } | null;
}

interface ThreadWithLast {
  thread: ThreadRow;
  last: { id: string; role: 'user' | 'assistant'; preview: string | null; createdAt: Date } | null;
}

function toChatThread(row: ThreadWithLast): ChatThread {
  return {
    id: row.thread.id,
    object: 'chat.thread',
    assistant_id: row.thread.assistantId,
    created_at: unixSeconds(row.thread.createdAt),
    last_interaction_at: unixSeconds(row.thread.lastActivityAt),
    metadata: row.thread.metadata,
    last_message: row.last
      ? {
          id: row.last.id,
          role: row.last.role,
          preview: row.last.preview ?? '',
          created_at: unixSeconds(row.last.createdAt),
        }
      : null,
  };
}

/** The start of a message's first text part, as lists show it. */
export function messagePreview(): SQL<string | null> {
  return sql<string | null>`left(${messages.content} -> 0 -> 'text' ->> 'value', ${PREVIEW_CHARS})`;
}

function selectWithLast(db: Db, where: SQL | undefined) {
  const last = db
    .select({
      id: messages.id,
      role: messages.role,
      preview: messagePreview().as('preview'),
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(eq(messages.threadId, threads.id))
    .orderBy(desc(messages.id))
    .limit(1)
    .as('last_message');
  return db
    .select({
      thread: threads,
      last: { id: last.id, role: last.role, preview: last.preview, createdAt: last.createdAt },
    })
    .from(threads)
    .leftJoinLateral(last, sql`true`)
    .where(where)
    .orderBy(desc(threads.lastActivityAt), desc(threads.id));
}

/** The project's threads (an end user's own only), most recent activity first. */
export async function listChatThreads(
  db: Db,
  owner: ThreadOwner,
  query: CursorListQuery,
): Promise<CursorPage<ChatThread>> {
  const endUser = owner.endUserId === null ? undefined : eq(threads.endUserId, owner.endUserId);
  const rows = await selectWithLast(
    db,
    and(
      eq(threads.ownerId, owner.ownerId),
      endUser,
      olderThanCursor(threads.lastActivityAt, threads.id, query.cursor),
    ),
  ).limit(query.limit + 1);
  return toCursorPage(
    rows,
    query.limit,
    (row) => ({ at: row.thread.lastActivityAt, id: row.thread.id }),
    toChatThread,
  );
}

export async function findChatThread(db: Db, threadId: string): Promise<ChatThread | null> {
  const [row] = await selectWithLast(db, eq(threads.id, threadId));
  return row ? toChatThread(row) : null;
}

/**
 * The owner's most recently active thread with this assistant (an end user's own; the project's own, made without an
 * end user, for a key acting for nobody), created when there is none. An advisory lock on (owner, end user,
 * assistant) makes concurrent calls agree on one thread.
 */
export async function reuseThread(
  db: Db,
  owner: ThreadOwner,
  assistantId: string,
  metadata: Record<string, string>,
): Promise<{ threadId: string; isNew: boolean }> {
  const { ownerId, endUserId } = owner;
  return db.transaction(async (tx) => {
    const lockKey = `${ownerId}/${endUserId ?? ''}`;
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${lockKey}), hashtext(${assistantId}))`);
    const endUser = endUserId === null ? isNull(threads.endUserId) : eq(threads.endUserId, endUserId);
    const [existing] = await tx
      .select({ id: threads.id })
      .from(threads)
      .where(and(eq(threads.ownerId, ownerId), endUser, eq(threads.assistantId, assistantId)))
      .orderBy(desc(threads.lastActivityAt), desc(threads.id))
      .limit(1);
    if (existing) return { threadId: existing.id, isNew: false };
    const created = await insertThread(tx, { id: newId('thread'), ...owner, assistantId, metadata }, []);
    return { threadId: created.id, isNew: true };
  });
}
