// Starting a chat turn: the caller's thread (or a new one), its assistant (or the default), the message and a run.
import { type AssistantRow, newId, type ThreadRow } from '@threadwork/shared';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { insertThread, ownedThread } from '../queries/threads.js';
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

export function newChatThread(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
  metadata: Record<string, string> = {},
): Promise<ThreadRow> {
  return insertThread(deps.db, { id: newId('thread'), ownerId: principal.keyId, assistantId, metadata }, []);
}

/** A turn's thread and, when this turn read it, its assistant. */
interface ChatThread {
  thread: ThreadRow;
  assistant?: AssistantRow;
}

/** The thread of a turn: the caller's, or a new one whose assistant is checked before it is written. */
async function chatThread(deps: AppDeps, principal: Principal, input: ChatInput): Promise<ChatThread> {
  if (input.thread_id) return { thread: await ownedThread(deps.db, principal, input.thread_id, 'thread_id') };
  const assistant = await resolveAssistant(deps, principal, input.assistant_id);
  return { thread: await newChatThread(deps, principal, assistant.id), assistant };
}

/**
 * The assistant of a turn: the one read for a new thread, else the one the request or the thread names (createRun
 * reads that one), else the default. A row read here is passed on, so createRun does not read it again.
 */
async function turnAssistant(
  deps: AppDeps,
  input: ChatInput,
  chat: ChatThread,
): Promise<{ id: string; row?: AssistantRow }> {
  if (chat.assistant) return { id: chat.assistant.id, row: chat.assistant };
  const named = input.assistant_id || chat.thread.assistantId;
  if (named) return { id: named };
  const row = await ensureDefaultAssistant(deps.db, deps.config);
  return { id: row.id, row };
}

export async function startChat(deps: AppDeps, principal: Principal, input: ChatInput): Promise<StartedChat> {
  const chat = await chatThread(deps, principal, input);
  const assistant = await turnAssistant(deps, input, chat);
  const created = await createRun(
    deps,
    principal,
    chat.thread,
    {
      assistant_id: assistant.id,
      additional_instructions: input.additional_instructions ?? null,
      metadata: input.metadata ?? {},
    },
    {
      additionalMessages: [{ role: 'user', content: input.message, metadata: input.metadata ?? {} }],
      assistant: assistant.row,
    },
  );
  return { ...created, thread: chat.thread };
}
