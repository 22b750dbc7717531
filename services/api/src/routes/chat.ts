// /api: the chat API for web and mobile clients (chat, streaming, polling, threads); see docs/chat-api.md.

import { notFound } from '@threadwork/shared';
import { type Request, type Response, Router } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import { listChatThreads } from '../repositories/chat-threads.js';
import { chatViewOf, findOwnedRun } from '../repositories/runs.js';
import { ownedThread } from '../repositories/threads.js';
import { chatInputSchema, cursorListSchema, resumeSchema, threadInputSchema } from '../schemas/chat.js';
import { listQuerySchema } from '../schemas/common.js';
import { answerChat } from '../services/chat/answer-chat.js';
import { listChatMessages } from '../services/chat/history.js';
import { startChat } from '../services/chat/start-chat.js';
import { deleteChatThread, openChatThread } from '../services/chat/thread-actions.js';
import { streamHeldSimpleRun, streamSimpleRun } from '../sse/simple.js';

/** Aborts when the client closes the connection before the answer is sent. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  if (res.closed) controller.abort();
  else res.on('close', () => controller.abort());
  return controller.signal;
}

function lastEventId(req: Request): number {
  const given = req.get('last-event-id') ?? req.query.last_event_id;
  return parseInput(resumeSchema, { last_event_id: given }).last_event_id;
}

export function chatRouter(deps: AppDeps): Router {
  const router = Router();
  const chatSchema = chatInputSchema(deps.config.MAX_MESSAGE_CHARS);
  const sseOptions = {
    heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
    maxLifetimeMs: deps.config.SSE_MAX_LIFETIME_MS,
  };

  async function ownRun(res: Response, runId: string) {
    const run = await findOwnedRun(deps.db, principalOf(res), runId);
    if (!run) throw notFound('run', runId);
    return run;
  }

  router.post('/chat', async (req, res) => {
    const input = parseInput(chatSchema, req.body);
    const answer = await answerChat(deps, principalOf(res), input, clientGone(res));
    if (answer) res.status(answer.status).json(answer.body);
  });

  // The stream listens before the run's first event is appended: every event comes live, none is read back.
  router.post('/chat/stream', async (req, res) => {
    const input = parseInput(chatSchema, req.body);
    const principal = principalOf(res);
    const { created, held } = await deps.feed.createHeld((stream) =>
      startChat(deps, principal, input, stream),
    );
    streamHeldSimpleRun(res, deps, created.run, { followed: held, afterSeq: 0 }, sseOptions);
  });

  router.get('/runs/:runId', async (req, res) => {
    const run = await ownRun(res, req.params.runId);
    res.json(await chatViewOf(deps.db, run));
  });

  router.get('/runs/:runId/events', async (req, res) => {
    const afterSeq = lastEventId(req);
    const run = await ownRun(res, req.params.runId);
    await streamSimpleRun(res, deps, run, afterSeq, sseOptions);
  });

  router.get('/threads', async (req, res) => {
    const query = parseInput(cursorListSchema, req.query);
    res.json(await listChatThreads(deps.db, principalOf(res).keyId, query));
  });

  router.post('/threads', async (req, res) => {
    const input = parseInput(threadInputSchema, req.body ?? {});
    const { thread, isNew } = await openChatThread(deps, principalOf(res), input);
    res.status(isNew ? 201 : 200).json(thread);
  });

  router.get('/threads/:threadId/messages', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    res.json(await listChatMessages(deps.db, thread.id, query));
  });

  router.delete('/threads/:threadId', async (req, res) => {
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    await deleteChatThread(deps, thread.id);
    res.json({ id: thread.id, object: 'chat.thread.deleted', deleted: true });
  });

  return router;
}
