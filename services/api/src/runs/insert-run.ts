// The one statement that writes a new run: with a new thread, or touching (and so locking) an existing one, and
// with the messages that come with it. Prepared once per shape (which columns are null, how many messages).
import { type Db, prepared, type RunRow, schema, slotted } from '@threadwork/shared';
import { and, eq, sql } from 'drizzle-orm';
import { assistantIdAtVersion } from '../repositories/assistants.js';
import type { NewMessage, NewThread } from '../repositories/threads.js';

const { messages, runs, threads } = schema;

/**
 * A new thread, or an existing one that must belong to `owner` (null: to anyone, for an admin). A thread that is
 * missing or not the owner's leaves the run without a thread: the statement fails on runs.thread_id.
 */
export type RunThread = { insert: NewThread } | { touch: { id: string; now: Date; owner: string | null } };

/**
 * When given, the run is written only while the assistant's row is at this version: otherwise the statement fails
 * on runs.assistant_id, and the run must be made again from the assistant as it is now.
 */
export type AssistantVersion = string | null;

/** Writes the run (its owner is the thread's); answers that owner. */
export async function insertRun(
  db: Db,
  run: RunRow,
  thread: RunThread,
  withMessages: NewMessage[],
  assistantVersion: AssistantVersion,
): Promise<string> {
  const touching = 'touch' in thread;
  const owner = touching ? thread.touch.owner : null;
  const checked = assistantVersion !== null;
  // Columns the statement reads (from the thread it touched, from the assistant's row) are not placeholders.
  const runSlots = slotted(runs, 'run', {
    ...run,
    ...(touching ? { threadId: undefined, ownerId: undefined } : {}),
    ...(checked ? { assistantId: undefined } : {}),
  });
  const threadSlots = touching ? null : slotted(threads, 'thread', thread.insert);
  const messageSlots = withMessages.map((message, index) => slotted(messages, `message${index}`, message));
  const shape = [
    runSlots.shape,
    threadSlots?.shape ?? (owner === null ? 'touch' : 'touch-owned'),
    ...messageSlots.map((slots) => slots.shape),
  ];
  const statement = prepared(db, `insert_run ${shape.join(' ')}`, (name) => {
    const threadWrite = threadSlots
      ? db.$with('inserted_thread').as(db.insert(threads).values(threadSlots.columns))
      : db.$with('touched_thread').as(
          db
            .update(threads)
            .set({ lastActivityAt: sql`${sql.param(sql.placeholder('touchedAt'), threads.lastActivityAt)}` })
            .where(
              and(
                eq(threads.id, sql.placeholder('touchedThreadId')),
                owner === null ? undefined : eq(threads.ownerId, sql.placeholder('touchedThreadOwner')),
              ),
            )
            .returning({ id: threads.id, ownerId: threads.ownerId }),
        );
    const writes =
      messageSlots.length > 0
        ? [
            threadWrite,
            db
              .$with('inserted_messages')
              .as(db.insert(messages).values(messageSlots.map((slots) => slots.columns))),
          ]
        : [threadWrite];
    // Read from the touch, so the thread's row is locked before the run's index entry is taken.
    const fromThread = touching
      ? {
          threadId: sql`(select id from touched_thread)`,
          ownerId: sql`(select owner_id from touched_thread)`,
        }
      : {};
    return db
      .with(...writes)
      .insert(runs)
      .values({
        ...runSlots.columns,
        ...fromThread,
        ...(checked ? { assistantId: assistantIdAtVersion(db) } : {}),
      })
      .returning({ ownerId: runs.ownerId })
      .prepare(name);
  });
  const [written] = await statement.execute({
    ...runSlots.values,
    ...threadSlots?.values,
    ...Object.assign({}, ...messageSlots.map((slots) => slots.values)),
    ...(touching ? { touchedThreadId: thread.touch.id, touchedAt: thread.touch.now } : {}),
    ...(owner === null ? {} : { touchedThreadOwner: owner }),
    ...(checked ? { assistantId: run.assistantId, assistantVersion } : {}),
  });
  if (!written) throw new Error('insert returned no row');
  return written.ownerId;
}
