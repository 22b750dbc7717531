// Data access for message feedback: one row per user and message; the rated message must be on the caller's thread.
import { type Db, newId, schema } from '@threadwork/shared';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import { messagePreview } from './chat-threads.js';
import { olderThanCursor } from './cursor.js';
import { threadsOwnedBy } from './threads.js';

const { messageFeedback, messages, threads } = schema;

export type FeedbackRow = typeof messageFeedback.$inferSelect;

export async function findRatedMessage(db: Db, principal: Principal, messageId: string) {
  const [row] = await db
    .select({ id: messages.id, role: messages.role })
    .from(messages)
    .innerJoin(threads, eq(threads.id, messages.threadId))
    .where(and(eq(messages.id, messageId), threadsOwnedBy(principal)));
  return row ?? null;
}

/** The owner's feedback on the message; a second one replaces the first (and counts as new). */
export async function upsertFeedback(
  db: Db,
  feedback: { messageId: string; ownerId: string; rating: number; comment: string | null; createdAt: Date },
): Promise<FeedbackRow> {
  const { messageId, ownerId, ...values } = feedback;
  const [row] = await db
    .insert(messageFeedback)
    .values({ id: newId('feedback'), messageId, ownerId, ...values })
    .onConflictDoUpdate({ target: [messageFeedback.messageId, messageFeedback.ownerId], set: values })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  return row;
}

/** All feedback after `cursor`, newest first, with its message's thread, run and preview; `limit` + 1 rows. */
export function listFeedbackRows(db: Db, cursor: string | undefined, limit: number) {
  return db
    .select({
      feedback: messageFeedback,
      threadId: messages.threadId,
      runId: messages.runId,
      preview: messagePreview(),
    })
    .from(messageFeedback)
    .innerJoin(messages, eq(messages.id, messageFeedback.messageId))
    .where(olderThanCursor(messageFeedback.createdAt, messageFeedback.id, cursor))
    .orderBy(desc(messageFeedback.createdAt), desc(messageFeedback.id))
    .limit(limit + 1);
}

/** Every rating of the given messages, oldest first (for a thread's export). */
export function feedbackOnMessages(db: Db, messageIds: string[]) {
  if (messageIds.length === 0) return Promise.resolve([]);
  return db
    .select({
      messageId: messageFeedback.messageId,
      rating: messageFeedback.rating,
      comment: messageFeedback.comment,
      createdAt: messageFeedback.createdAt,
    })
    .from(messageFeedback)
    .where(inArray(messageFeedback.messageId, messageIds))
    .orderBy(messageFeedback.createdAt);
}
