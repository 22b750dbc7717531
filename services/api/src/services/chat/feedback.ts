// Feedback on assistant messages: one per user and message (given again, it replaces the first), listed for admins.

import { ApiError, type Db, newId, notFound, schema, unixSeconds } from '@threadwork/shared';
import { and, desc, eq } from 'drizzle-orm';
import type { Principal } from '../../auth.js';
import { messagePreview } from '../../repositories/chat-threads.js';
import { type CursorPage, olderThanCursor, toCursorPage } from '../../repositories/cursor.js';
import { threadsOwnedBy } from '../../repositories/threads.js';
import type { CursorListQuery, FeedbackInput } from '../../schemas/chat.js';

const { messageFeedback, messages, threads } = schema;

export interface FeedbackObject {
  id: string;
  object: 'message.feedback';
  message_id: string;
  rating: number;
  comment: string | null;
  created_at: number;
}

export interface AdminFeedbackObject extends FeedbackObject {
  owner_id: string;
  thread_id: string;
  run_id: string | null;
  message_preview: string;
}

type FeedbackRow = typeof messageFeedback.$inferSelect;

function toFeedbackObject(row: FeedbackRow): FeedbackObject {
  return {
    id: row.id,
    object: 'message.feedback',
    message_id: row.messageId,
    rating: row.rating,
    comment: row.comment,
    created_at: unixSeconds(row.createdAt),
  };
}

async function findRatedMessage(db: Db, principal: Principal, messageId: string) {
  const [row] = await db
    .select({ id: messages.id, role: messages.role })
    .from(messages)
    .innerJoin(threads, eq(threads.id, messages.threadId))
    .where(and(eq(messages.id, messageId), threadsOwnedBy(principal)));
  return row ?? null;
}

/** Stores the caller's rating of an assistant message; a second rating replaces the first and counts as new. */
export async function giveFeedback(
  db: Db,
  principal: Principal,
  messageId: string,
  input: FeedbackInput,
): Promise<FeedbackObject> {
  const message = await findRatedMessage(db, principal, messageId);
  if (!message) throw notFound('message', messageId);
  if (message.role !== 'assistant') {
    throw new ApiError(400, 'Feedback can only be given on assistant messages.', { code: 'invalid_value' });
  }
  const now = new Date();
  const values = { rating: input.rating, comment: input.comment ?? null, createdAt: now };
  const [row] = await db
    .insert(messageFeedback)
    .values({ id: newId('feedback'), messageId, ownerId: principal.keyId, ...values })
    .onConflictDoUpdate({ target: [messageFeedback.messageId, messageFeedback.ownerId], set: values })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  return toFeedbackObject(row);
}

/** All feedback, newest first, with where it was given and what it was about. */
export async function listFeedback(db: Db, query: CursorListQuery): Promise<CursorPage<AdminFeedbackObject>> {
  const rows = await db
    .select({
      feedback: messageFeedback,
      threadId: messages.threadId,
      runId: messages.runId,
      preview: messagePreview(),
    })
    .from(messageFeedback)
    .innerJoin(messages, eq(messages.id, messageFeedback.messageId))
    .where(olderThanCursor(messageFeedback.createdAt, messageFeedback.id, query.cursor))
    .orderBy(desc(messageFeedback.createdAt), desc(messageFeedback.id))
    .limit(query.limit + 1);
  return toCursorPage(
    rows,
    query.limit,
    (row) => ({ at: row.feedback.createdAt, id: row.feedback.id }),
    (row) => ({
      ...toFeedbackObject(row.feedback),
      owner_id: row.feedback.ownerId,
      thread_id: row.threadId,
      run_id: row.runId,
      message_preview: row.preview ?? '',
    }),
  );
}
