// Starting a chat turn: the caller's thread (or a new one), its assistant (or the default), the message and a run.
import { newId, type ThreadRow } from '@threadwork/shared';
import { type Principal, threadOwnerOf } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import { insertThread, ownedThread } from '../../repositories/threads.js';
import {
  type CreatedRun,
  createRun,
  type NewRunOptions,
  type RunAssistant,
  readAssistantForRun,
} from '../../runs/create-run.js';
import type { ChatInput } from '../../schemas/chat.js';
import { ensureDefaultAssistant } from './default-assistant.js';

export interface StartedChat extends CreatedRun {
  thread: ThreadRow;
}

/** The assistant named (as it is now), else the default one. */
export async function resolveAssistant(
  deps: AppDeps,
  principal: Principal,
  assistantId: string | null | undefined,
): Promise<RunAssistant> {
  if (assistantId) return readAssistantForRun(deps, principal, assistantId);
  return { row: await ensureDefaultAssistant(deps.db, deps.config), version: null };
}

export function newChatThread(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
  metadata: Record<string, string> = {},
): Promise<ThreadRow> {
  return insertThread(
    deps.db,
    { id: newId('thread'), ...threadOwnerOf(principal), assistantId, metadata },
    [],
  );
}

/** A turn's thread and, when this turn read it, its assistant. */
interface ChatThread {
  thread: ThreadRow;
  assistant?: RunAssistant;
}

/** The thread of a turn: the caller's, or a new one whose assistant is checked before it is written. */
async function chatThread(deps: AppDeps, principal: Principal, input: ChatInput): Promise<ChatThread> {
  if (input.thread_id) return { thread: await ownedThread(deps.db, principal, input.thread_id, 'thread_id') };
  const assistant = await resolveAssistant(deps, principal, input.assistant_id);
  return { thread: await newChatThread(deps, principal, assistant.row.id), assistant };
}

/**
 * The assistant of a turn: the one read for a new thread, else the one the request or the thread names (createRun
 * reads that one), else the default. One read here is passed on, so createRun does not read it again.
 */
async function turnAssistant(
  deps: AppDeps,
  input: ChatInput,
  chat: ChatThread,
): Promise<{ id: string; loaded?: RunAssistant }> {
  if (chat.assistant) return { id: chat.assistant.row.id, loaded: chat.assistant };
  const named = input.assistant_id || chat.thread.assistantId;
  if (named) return { id: named };
  const row = await ensureDefaultAssistant(deps.db, deps.config);
  return { id: row.id, loaded: { row, version: null } };
}

export async function startChat(
  deps: AppDeps,
  principal: Principal,
  input: ChatInput,
  options: NewRunOptions = {},
): Promise<StartedChat> {
  const chat = await chatThread(deps, principal, input);
  const assistant = await turnAssistant(deps, input, chat);
  const created = await createRun(
    deps,
    principal,
    chat.thread.id,
    {
      assistant_id: assistant.id,
      additional_instructions: input.additional_instructions ?? null,
      metadata: input.metadata ?? {},
    },
    {
      ...options,
      additionalMessages: [{ role: 'user', content: input.message, metadata: input.metadata ?? {} }],
      assistant: assistant.loaded,
      multitaskStrategy: input.multitask_strategy,
    },
  );
  return { ...created, thread: chat.thread };
}
