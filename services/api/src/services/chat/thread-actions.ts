// The caller's chat threads: listing, creating (or reusing), reading the history of and deleting them.

import { findRun } from '@threadwork/shared';
import { type Principal, threadOwnerOf } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import {
  type ChatThread,
  findChatThread,
  listChatThreads,
  reuseThread,
} from '../../repositories/chat-threads.js';
import { activeRunId, deleteThread, ownedThread } from '../../repositories/threads.js';
import { cancelRun } from '../../runs/cancel-run.js';
import type { CursorListQuery, ThreadInput } from '../../schemas/chat.js';
import type { ListQuery } from '../../schemas/common.js';
import { listChatMessages } from './history.js';
import { newChatThread, resolveAssistant } from './start-chat.js';

export function listThreads(deps: AppDeps, principal: Principal, query: CursorListQuery) {
  return listChatThreads(deps.db, threadOwnerOf(principal), query);
}

export async function openChatThread(
  deps: AppDeps,
  principal: Principal,
  input: ThreadInput,
): Promise<{ thread: ChatThread; isNew: boolean }> {
  const assistant = (await resolveAssistant(deps, principal, input.assistant_id)).row;
  const metadata = input.metadata ?? {};
  const opened = input.reuse
    ? await reuseThread(deps.db, threadOwnerOf(principal), assistant.id, metadata)
    : { threadId: (await newChatThread(deps, principal, assistant.id, metadata)).id, isNew: true };
  const thread = await findChatThread(deps.db, opened.threadId);
  if (!thread) throw new Error(`thread ${opened.threadId} vanished`);
  return { thread, isNew: opened.isNew };
}

export async function chatHistory(deps: AppDeps, principal: Principal, threadId: string, query: ListQuery) {
  const thread = await ownedThread(deps.db, principal, threadId);
  return listChatMessages(deps.db, thread.id, query);
}

/** Deletes an owned thread with its messages and runs; a run still active is cancelled first so no worker keeps it. */
export async function deleteChatThread(deps: AppDeps, principal: Principal, threadId: string): Promise<void> {
  await ownedThread(deps.db, principal, threadId);
  const active = await activeRunId(deps.db, threadId);
  const run = active ? await findRun(deps.db, active) : null;
  if (run)
    await cancelRun(deps, run).catch((error: unknown) =>
      deps.log.warn({ err: error, runId: run.id }, 'cancel before delete failed'),
    );
  await deleteThread(deps.db, threadId);
}
