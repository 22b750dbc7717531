// Messages of a thread: request messages turned into stored rows (a string becomes one text part), and the
// message operations, which never write while a run is active on the thread.
import {
  ApiError,
  assertNever,
  type MessageContentPart,
  type MessageRow,
  newId,
  notFound,
  schema,
  toMessageObject,
} from '@threadwork/shared';
import { and, eq } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { listRows } from '../repositories/pagination.js';
import {
  activeRunId,
  deleteMessage,
  findMessage,
  insertMessages,
  ownedThread,
  touchThread,
  updateMessageMetadata,
} from '../repositories/threads.js';
import type { CreateMessageInput } from '../schemas/common.js';
import type { ListMessagesQuery, ModifyMessageInput } from '../schemas/threads.js';
import { fileSearchAttachments, withAttachedFiles } from './tool-resources.js';

export function toContentParts(content: CreateMessageInput['content']): MessageContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: { value: content, annotations: [] } }];
  return content.map((part): MessageContentPart => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: { value: part.text, annotations: [] } };
      case 'image_file':
        return {
          type: 'image_file',
          image_file: { file_id: part.image_file.file_id, detail: part.image_file.detail ?? 'auto' },
        };
      case 'image_url':
        return {
          type: 'image_url',
          image_url: { url: part.image_url.url, detail: part.image_url.detail ?? 'auto' },
        };
      default:
        return assertNever(part);
    }
  });
}

export function newUserMessage(
  threadId: string,
  input: CreateMessageInput,
  now: Date = new Date(),
): MessageRow {
  return {
    id: newId('message'),
    threadId,
    role: input.role,
    content: toContentParts(input.content),
    status: 'completed',
    assistantId: null,
    runId: null,
    attachments: input.attachments ?? [],
    metadata: input.metadata ?? {},
    incompleteDetails: null,
    createdAt: now,
    completedAt: now,
    incompleteAt: null,
  };
}

function activeRunMessage(threadId: string, runId: string): ApiError {
  return new ApiError(400, `Can't add messages to ${threadId} while a run ${runId} is active.`);
}

export async function createMessage(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  input: CreateMessageInput,
): Promise<MessageRow> {
  const thread = await ownedThread(deps.db, principal, threadId);
  const resources = await withAttachedFiles(
    deps,
    principal,
    thread.toolResources,
    fileSearchAttachments([input]),
  );
  const row = await deps.db.transaction(async (tx) => {
    // The update's row lock serialises writers of the thread (new messages, new runs) until the commit.
    await touchThread(tx, thread.id, resources === thread.toolResources ? undefined : resources);
    const active = await activeRunId(tx, thread.id);
    if (active) throw activeRunMessage(thread.id, active);
    const [inserted] = await insertMessages(tx, [newUserMessage(thread.id, input)]);
    return inserted;
  });
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listMessages(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  query: ListMessagesQuery,
) {
  const thread = await ownedThread(deps.db, principal, threadId);
  const scope = and(
    eq(schema.messages.threadId, thread.id),
    query.run_id ? eq(schema.messages.runId, query.run_id) : undefined,
  );
  return listRows(deps.db, schema.messages, query, scope, toMessageObject);
}

export async function retrieveMessage(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  messageId: string,
): Promise<MessageRow> {
  const thread = await ownedThread(deps.db, principal, threadId);
  const row = await findMessage(deps.db, thread.id, messageId);
  if (!row) throw notFound('message', messageId);
  return row;
}

export async function modifyMessage(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  messageId: string,
  input: ModifyMessageInput,
): Promise<MessageRow> {
  const thread = await ownedThread(deps.db, principal, threadId);
  const row =
    input.metadata === undefined
      ? await findMessage(deps.db, thread.id, messageId)
      : await updateMessageMetadata(deps.db, thread.id, messageId, input.metadata ?? {});
  if (!row) throw notFound('message', messageId);
  return row;
}

export async function removeMessage(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  messageId: string,
): Promise<void> {
  const thread = await ownedThread(deps.db, principal, threadId);
  if (!(await deleteMessage(deps.db, thread.id, messageId))) throw notFound('message', messageId);
}
