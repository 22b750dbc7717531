// The one statement that writes a new run: with a new thread, or touching (and so locking) an existing one, and
// with the messages that come with it. Prepared once per shape (which columns are null, how many messages).
import { type Db, prepared, type RunRow, schema, slotted } from '@threadwork/shared';
import { eq, sql } from 'drizzle-orm';
import type { NewMessage, NewThread } from '../queries/threads.js';

const { messages, runs, threads } = schema;

export type RunThread = { insert: NewThread } | { touch: { id: string; now: Date } };

export async function insertRun(
  db: Db,
  run: RunRow,
  thread: RunThread,
  withMessages: NewMessage[],
): Promise<void> {
  const touching = 'touch' in thread;
  const runSlots = slotted(runs, 'run', touching ? { ...run, threadId: undefined } : run);
  const threadSlots = touching ? null : slotted(threads, 'thread', thread.insert);
  const messageSlots = withMessages.map((message, index) => slotted(messages, `message${index}`, message));
  const shape = [runSlots.shape, threadSlots?.shape ?? 'touch', ...messageSlots.map((slots) => slots.shape)];
  const statement = prepared(db, `insert_run ${shape.join(' ')}`, (name) => {
    const threadWrite = threadSlots
      ? db.$with('inserted_thread').as(db.insert(threads).values(threadSlots.columns))
      : db.$with('touched_thread').as(
          db
            .update(threads)
            .set({ lastActivityAt: sql`${sql.param(sql.placeholder('touchedAt'), threads.lastActivityAt)}` })
            .where(eq(threads.id, sql.placeholder('touchedThreadId')))
            .returning({ id: threads.id }),
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
    const runThreadId = touching ? sql`(select id from touched_thread)` : runSlots.columns.threadId;
    return db
      .with(...writes)
      .insert(runs)
      .values({ ...runSlots.columns, threadId: runThreadId })
      .prepare(name);
  });
  await statement.execute({
    ...runSlots.values,
    ...threadSlots?.values,
    ...Object.assign({}, ...messageSlots.map((slots) => slots.values)),
    ...(touching ? { touchedThreadId: thread.touch.id, touchedAt: thread.touch.now } : {}),
  });
}
