// Threads: a new thread with its first messages, and reading, modifying and deleting the caller's threads.
import { type MessageRow, newId, notFound, type ThreadRow } from '@threadwork/shared';
import { type Principal, type ThreadOwner, threadOwnerOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { definedOnly } from '../repositories/patch.js';
import { deleteThread, insertThread, ownedThread, updateThread } from '../repositories/threads.js';
import type { CreateThreadInput, ModifyThreadInput } from '../schemas/threads.js';
import { newUserMessage } from './messages.js';
import { fileSearchAttachments, resolveToolResources, withAttachedFiles } from './tool-resources.js';

/** A new thread's row as it will be stored: every column is given, so the row needs no reading back. */
export function newThreadRow(owner: ThreadOwner, input: CreateThreadInput, now: Date): ThreadRow {
  return {
    id: newId('thread'),
    ...owner,
    assistantId: null,
    metadata: input.metadata ?? {},
    toolResources: input.tool_resources ?? {},
    createdAt: now,
    lastActivityAt: now,
    hasWaitingRuns: false,
  };
}

export function initialMessages(thread: ThreadRow, input: CreateThreadInput): MessageRow[] {
  return (input.messages ?? []).map((message) => newUserMessage(thread.id, message, thread.createdAt));
}

export async function createThread(
  deps: AppDeps,
  principal: Principal,
  input: CreateThreadInput,
): Promise<ThreadRow> {
  const thread = newThreadRow(
    threadOwnerOf(principal),
    await withStoredToolResources(deps, principal, input),
    new Date(),
  );
  return insertThread(deps.db, thread, initialMessages(thread, input));
}

/**
 * A new thread's input with its tool resources as they are stored: stores made for `vector_stores`, and the files its
 * messages attach for file_search added to its store.
 */
export async function withStoredToolResources(
  deps: AppDeps,
  principal: Principal,
  input: CreateThreadInput,
): Promise<CreateThreadInput> {
  const resolved = (await resolveToolResources(deps, principal, input.tool_resources)) ?? {};
  const attached = fileSearchAttachments(input.messages ?? []);
  return { ...input, tool_resources: await withAttachedFiles(deps, principal, resolved, attached) };
}

export function retrieveThread(deps: AppDeps, principal: Principal, threadId: string): Promise<ThreadRow> {
  return ownedThread(deps.db, principal, threadId);
}

export async function modifyThread(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  input: ModifyThreadInput,
): Promise<ThreadRow> {
  const thread = await ownedThread(deps.db, principal, threadId);
  const patch = definedOnly({
    metadata: input.metadata === null ? {} : input.metadata,
    toolResources: await resolveToolResources(deps, principal, input.tool_resources),
  });
  const row = patch ? await updateThread(deps.db, thread.id, patch) : thread;
  if (!row) throw notFound('thread', threadId);
  return row;
}

export async function removeThread(deps: AppDeps, principal: Principal, threadId: string): Promise<void> {
  await ownedThread(deps.db, principal, threadId);
  await deleteThread(deps.db, threadId);
}
