// /v1/threads and their messages: create (with messages), retrieve, modify, delete; messages CRUD and list.

import {
  ApiError,
  newId,
  notFound,
  schema,
  type ThreadRow,
  toMessageObject,
  toThreadObject,
} from '@threadwork/shared';
import { and, eq } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import { listRows } from '../repositories/pagination.js';
import { definedOnly } from '../repositories/patch.js';
import {
  activeRunId,
  deleteThread,
  findMessage,
  insertMessages,
  insertThread,
  type NewMessage,
  ownedThread,
  touchThread,
  updateThread,
} from '../repositories/threads.js';
import {
  createMessageSchema,
  listQuerySchema,
  metadataSchema,
  toolResourcesSchema,
} from '../schemas/common.js';
import { newUserMessage } from '../services/messages.js';

export function createThreadSchema(maxChars: number) {
  return z.strictObject({
    messages: z.array(createMessageSchema(maxChars)).max(32).optional(),
    tool_resources: toolResourcesSchema,
    metadata: metadataSchema.nullable().optional(),
  });
}

const modifyThreadSchema = z.strictObject({
  metadata: metadataSchema.nullable().optional(),
  tool_resources: toolResourcesSchema,
});
const modifyMessageSchema = z.strictObject({ metadata: metadataSchema.nullable().optional() });
const listMessagesSchema = listQuerySchema.extend({ run_id: z.string().optional() });

export type CreateThreadInput = z.infer<ReturnType<typeof createThreadSchema>>;

/** A new thread's row as it will be stored: every column is given, so the row needs no reading back. */
export function newThreadRow(ownerId: string, input: CreateThreadInput, now: Date): ThreadRow {
  return {
    id: newId('thread'),
    ownerId,
    assistantId: null,
    metadata: input.metadata ?? {},
    toolResources: input.tool_resources ?? {},
    createdAt: now,
    lastActivityAt: now,
  };
}

export function initialMessages(thread: ThreadRow, input: CreateThreadInput): NewMessage[] {
  return (input.messages ?? []).map((message) => newUserMessage(thread.id, message, thread.createdAt));
}

export function createThread(deps: AppDeps, ownerId: string, input: CreateThreadInput): Promise<ThreadRow> {
  const thread = newThreadRow(ownerId, input, new Date());
  return insertThread(deps.db, thread, initialMessages(thread, input));
}

export function activeRunMessage(threadId: string, runId: string): ApiError {
  return new ApiError(400, `Can't add messages to ${threadId} while a run ${runId} is active.`);
}

export function threadsRouter(deps: AppDeps): Router {
  const router = Router();
  const messageSchema = createMessageSchema(deps.config.MAX_MESSAGE_CHARS);
  const threadSchema = createThreadSchema(deps.config.MAX_MESSAGE_CHARS);

  router.post('/threads', async (req, res) => {
    const input = parseInput(threadSchema, req.body ?? {});
    const thread = await createThread(deps, principalOf(res).keyId, input);
    res.json(toThreadObject(thread));
  });

  router.get('/threads/:threadId', async (req, res) => {
    res.json(toThreadObject(await ownedThread(deps.db, principalOf(res), req.params.threadId)));
  });

  router.post('/threads/:threadId', async (req, res) => {
    const input = parseInput(modifyThreadSchema, req.body ?? {});
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const patch = definedOnly({
      metadata: input.metadata === null ? {} : input.metadata,
      toolResources: input.tool_resources === null ? {} : input.tool_resources,
    });
    const row = patch ? await updateThread(deps.db, thread.id, patch) : thread;
    if (!row) throw notFound('thread', req.params.threadId);
    res.json(toThreadObject(row));
  });

  router.delete('/threads/:threadId', async (req, res) => {
    await ownedThread(deps.db, principalOf(res), req.params.threadId);
    await deleteThread(deps.db, req.params.threadId);
    res.json({ id: req.params.threadId, object: 'thread.deleted', deleted: true });
  });

  router.post('/threads/:threadId/messages', async (req, res) => {
    const input = parseInput(messageSchema, req.body);
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const row = await deps.db.transaction(async (tx) => {
      // The update's row lock serialises writers of the thread (new messages, new runs) until the commit.
      await touchThread(tx, thread.id);
      const active = await activeRunId(tx, thread.id);
      if (active) throw activeRunMessage(thread.id, active);
      const [inserted] = await insertMessages(tx, [newUserMessage(thread.id, input)]);
      return inserted;
    });
    if (!row) throw new Error('insert returned no row');
    res.json(toMessageObject(row));
  });

  router.get('/threads/:threadId/messages', async (req, res) => {
    const query = parseInput(listMessagesSchema, req.query);
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const scope = and(
      eq(schema.messages.threadId, thread.id),
      query.run_id ? eq(schema.messages.runId, query.run_id) : undefined,
    );
    res.json(await listRows(deps.db, schema.messages, query, scope, toMessageObject));
  });

  router.get('/threads/:threadId/messages/:messageId', async (req, res) => {
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const row = await findMessage(deps.db, thread.id, req.params.messageId);
    if (!row) throw notFound('message', req.params.messageId);
    res.json(toMessageObject(row));
  });

  router.post('/threads/:threadId/messages/:messageId', async (req, res) => {
    const input = parseInput(modifyMessageSchema, req.body ?? {});
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const row =
      input.metadata === undefined
        ? await findMessage(deps.db, thread.id, req.params.messageId)
        : (
            await deps.db
              .update(schema.messages)
              .set({ metadata: input.metadata ?? {} })
              .where(
                and(eq(schema.messages.id, req.params.messageId), eq(schema.messages.threadId, thread.id)),
              )
              .returning()
          )[0];
    if (!row) throw notFound('message', req.params.messageId);
    res.json(toMessageObject(row));
  });

  router.delete('/threads/:threadId/messages/:messageId', async (req, res) => {
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const rows = await deps.db
      .delete(schema.messages)
      .where(and(eq(schema.messages.id, req.params.messageId), eq(schema.messages.threadId, thread.id)))
      .returning({ id: schema.messages.id });
    if (rows.length === 0) throw notFound('message', req.params.messageId);
    res.json({ id: req.params.messageId, object: 'thread.message.deleted', deleted: true });
  });

  return router;
}
