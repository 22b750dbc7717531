// Writing a new run, in one transaction: with a new thread, or touching (and so locking) an existing one, and with
// the messages that come with it. The one-active-run index refuses a second active run on the thread.
import { type Db, type RunRow, schema } from '@threadwork/shared';
import { and, eq, sql } from 'drizzle-orm';
import { rowVersion } from '../repositories/assistants.js';
import type { NewMessage, NewThread } from '../repositories/threads.js';

const { assistants, messages, runs, threads } = schema;

/** A new thread, or an existing one that must belong to `owner` (null: to anyone, for an admin). */
export type RunThread = { insert: NewThread } | { touch: { id: string; now: Date; owner: string | null } };

/**
 * When given, the run is written only while the assistant's row is at this version: otherwise the run must be made
 * again from the assistant as it is now.
 */
export type AssistantVersion = string | null;

/** What the write did: the run's owner (its thread's), or why nothing was written. */
export type RunInsert = { ownerId: string } | { refused: 'thread_not_found' | 'assistant_changed' };

export async function insertRun(
  db: Db,
  run: RunRow,
  thread: RunThread,
  withMessages: NewMessage[],
  assistantVersion: AssistantVersion,
): Promise<RunInsert> {
  return db.transaction(async (tx) => {
    // Checked before anything is written: a refusal commits nothing.
    if (assistantVersion !== null) {
      const [current] = await tx
        .select({ id: assistants.id })
        .from(assistants)
        .where(and(eq(assistants.id, run.assistantId), sql`${rowVersion} = ${assistantVersion}`));
      if (!current) return { refused: 'assistant_changed' } as const;
    }
    const ownerId = await writeThread(tx, thread, run.ownerId);
    if (ownerId === null) return { refused: 'thread_not_found' } as const;
    if (withMessages.length > 0) await tx.insert(messages).values(withMessages);
    await tx.insert(runs).values({ ...run, ownerId });
    return { ownerId };
  });
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Inserts the new thread, or touches the existing one (its row lock keeps a message from slipping in). */
async function writeThread(tx: Tx, thread: RunThread, ownerId: string): Promise<string | null> {
  if ('insert' in thread) {
    await tx.insert(threads).values(thread.insert);
    return ownerId;
  }
  const { id, now, owner } = thread.touch;
  const [touched] = await tx
    .update(threads)
    .set({ lastActivityAt: now })
    .where(and(eq(threads.id, id), owner === null ? undefined : eq(threads.ownerId, owner)))
    .returning({ ownerId: threads.ownerId });
  return touched?.ownerId ?? null;
}
