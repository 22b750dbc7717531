// The caller's chat threads: listing, creating (or reusing), reading the history of and deleting them.

import { type Principal, threadOwnerOf } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import {
  type ChatThread,
  findChatThread,
  listChatThreads,
  reuseThread,
} from '../../repositories/chat-threads.js';
import { deleteThread, ownedThread, unfinishedRunIds } from '../../repositories/threads.js';
import { cancelSuperseded } from '../../runs/cancel-run.js';
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

/**
 * Deletes an owned thread with its messages and runs; its unfinished runs (the one running and those waiting behind
 * it) are cancelled first, newest first, so no worker keeps one and none is released meanwhile.
 */
export async function deleteChatThread(deps: AppDeps, principal: Principal, threadId: string): Promise<void> {
  await ownedThread(deps.db, principal, threadId);
  const unfinished = await unfinishedRunIds(deps.db, threadId);
  await cancelSuperseded(deps, unfinished).catch((error: unknown) =>
    deps.log.warn({ err: error, threadId }, 'cancel before delete failed'),
  );
  await deleteThread(deps.db, threadId);
}
