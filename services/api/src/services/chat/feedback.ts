// Feedback on assistant messages: one per user and message (given again, it replaces the first), listed for admins.

import { ApiError, type Db, notFound, unixSeconds } from '@threadwork/shared';
import type { Principal } from '../../auth.js';
import { type CursorPage, toCursorPage } from '../../repositories/cursor.js';
import {
  type FeedbackRow,
  findRatedMessage,
  listFeedbackRows,
  upsertFeedback,
} from '../../repositories/feedback.js';
import type { CursorListQuery, FeedbackInput } from '../../schemas/chat.js';

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
  const row = await upsertFeedback(db, {
    messageId,
    ownerId: principal.projectId,
    rating: input.rating,
    comment: input.comment ?? null,
    createdAt: new Date(),
  });
  return toFeedbackObject(row);
}

/** All feedback, newest first, with where it was given and what it was about. */
export async function listFeedback(db: Db, query: CursorListQuery): Promise<CursorPage<AdminFeedbackObject>> {
  const rows = await listFeedbackRows(db, query.cursor, query.limit);
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
