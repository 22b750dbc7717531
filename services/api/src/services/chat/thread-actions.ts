// Creating (or reusing) and deleting chat threads for the caller.

import { findRun } from '@threadwork/shared';
import type { Principal } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import { type ChatThread, findChatThread, reuseThread } from '../../repositories/chat-threads.js';
import { activeRunId, deleteThread } from '../../repositories/threads.js';
import { cancelRun } from '../../runs/cancel-run.js';
import type { ThreadInput } from '../../schemas/chat.js';
import { newChatThread, resolveAssistant } from './start-chat.js';

export async function openChatThread(
  deps: AppDeps,
  principal: Principal,
  input: ThreadInput,
): Promise<{ thread: ChatThread; isNew: boolean }> {
  const assistant = (await resolveAssistant(deps, principal, input.assistant_id)).row;
  const metadata = input.metadata ?? {};
  const opened = input.reuse
    ? await reuseThread(deps.db, principal.keyId, assistant.id, metadata)
    : { threadId: (await newChatThread(deps, principal, assistant.id, metadata)).id, isNew: true };
  const thread = await findChatThread(deps.db, opened.threadId);
  if (!thread) throw new Error(`thread ${opened.threadId} vanished`);
  return { thread, isNew: opened.isNew };
}

/** Deletes an owned thread with its messages and runs; a run still active is cancelled first so no worker keeps it. */
export async function deleteChatThread(deps: AppDeps, threadId: string): Promise<void> {
  const active = await activeRunId(deps.db, threadId);
  const run = active ? await findRun(deps.db, active) : null;
  if (run)
    await cancelRun(deps, run).catch((error: unknown) =>
      deps.log.warn({ err: error, runId: run.id }, 'cancel before delete failed'),
    );
  await deleteThread(deps.db, threadId);
}
