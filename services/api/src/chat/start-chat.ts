// Starting a chat turn: the caller's thread (or a new one), its assistant (or the default), the message and a run.
import { ApiError, type AssistantRow, newId, notFound, type ThreadRow } from '@threadwork/shared';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { findThread, insertThread } from '../queries/threads.js';
import { type CreatedRun, createRun, loadAssistantForRun } from '../runs/create-run.js';
import { ensureDefaultAssistant } from './default-assistant.js';
import type { ChatInput } from './schemas.js';

export interface StartedChat extends CreatedRun {
  thread: ThreadRow;
}

/** The assistant named, else the thread's, else the default one. */
export async function resolveAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string | null | undefined,
): Promise<AssistantRow> {
  if (assistantId) return loadAssistantForRun(deps, principal, assistantId);
  return ensureDefaultAssistant(deps.db, deps.config);
}

/** The caller's thread; another user's answers 404 as if it did not exist. */
export async function ownedThread(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  param: string | null = null,
): Promise<ThreadRow> {
  const thread = await findThread(deps.db, principal, threadId);
  if (!thread) throw new ApiError(404, notFound('thread', threadId).message, { param });
  return thread;
}

export function newChatThread(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
  metadata: Record<string, string> = {},
): Promise<ThreadRow> {
  return insertThread(deps.db, { id: newId('thread'), ownerId: principal.keyId, assistantId, metadata }, []);
}

/** The thread of a turn: the caller's, or a new one whose assistant is checked before it is written. */
async function chatThread(deps: AppDeps, principal: Principal, input: ChatInput): Promise<ThreadRow> {
  if (input.thread_id) return ownedThread(deps, principal, input.thread_id, 'thread_id');
  const assistant = await resolveAssistant(deps, principal, input.assistant_id);
  return newChatThread(deps, principal, assistant.id);
}

export async function startChat(deps: AppDeps, principal: Principal, input: ChatInput): Promise<StartedChat> {
  const thread = await chatThread(deps, principal, input);
  // createRun loads and checks the assistant itself, so a named one is passed on without being read here too.
  const assistantId =
    input.assistant_id || thread.assistantId || (await ensureDefaultAssistant(deps.db, deps.config)).id;
  const created = await createRun(
    deps,
    principal,
    thread,
    {
      assistant_id: assistantId,
      additional_instructions: input.additional_instructions ?? null,
      metadata: input.metadata ?? {},
    },
    { additionalMessages: [{ role: 'user', content: input.message, metadata: input.metadata ?? {} }] },
  );
  return { ...created, thread };
}
