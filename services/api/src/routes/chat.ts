// /api: the chat API for web and mobile clients (chat, streaming, polling, threads); see docs/chat-api.md.
import type { Request, Response } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import {
  chatInputSchema,
  chatMessageSchema,
  chatRunViewSchema,
  chatThreadSchema,
  cursorListSchema,
  cursorPageSchema,
  exportQuerySchema,
  resumeSchema,
  runLinksSchema,
  threadExportSchema,
  threadInputSchema,
} from '../schemas/chat.js';
import { listQuerySchema } from '../schemas/common.js';
import { deletedSchema, listPageSchema } from '../schemas/objects.js';
import { answerChat } from '../services/chat/answer-chat.js';
import { exportThread, toMarkdown } from '../services/chat/export.js';
import { chatViewOf } from '../services/chat/run-view.js';
import { startChat } from '../services/chat/start-chat.js';
import {
  chatHistory,
  deleteChatThread,
  listThreads,
  openChatThread,
} from '../services/chat/thread-actions.js';
import { ownedRunById } from '../services/runs.js';
import { streamHeldSimpleRun, streamSimpleRun } from '../sse/simple.js';
import { RouteSet } from './route.js';

const tag = 'Chat';

/** Aborts when the client closes the connection before the answer is sent. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  if (res.closed) controller.abort();
  else res.on('close', () => controller.abort());
  return controller.signal;
}

/** The resume point: the `Last-Event-ID` header (an EventSource reconnecting), else the query's `last_event_id`. */
function lastEventId(req: Request, query: { last_event_id: number }): number {
  const header = req.get('last-event-id');
  if (header === undefined) return query.last_event_id;
  return parseInput(resumeSchema, { last_event_id: header }).last_event_id;
}

export function chatRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  const chatSchema = chatInputSchema(deps.config.MAX_MESSAGE_CHARS);
  const sseOptions = {
    heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
    maxLifetimeMs: deps.config.SSE_MAX_LIFETIME_MS,
    clients: deps.metrics.sseClients,
  };

  routes.route(
    {
      method: 'post',
      path: '/chat',
      summary: 'Send a message and wait for the reply (wait: false answers 202 with poll and stream URLs)',
      tag,
      body: chatSchema,
      responses: { 200: { json: chatRunViewSchema }, 202: { json: runLinksSchema } },
    },
    async (_req, res, { body }) => {
      const answer = await answerChat(deps, principalOf(res), body, clientGone(res));
      if (answer) res.status(answer.status).json(answer.body);
    },
  );

  // The stream listens before the run's first event is appended: every event comes live, none is read back.
  routes.route(
    {
      method: 'post',
      path: '/chat/stream',
      summary: 'Send a message and stream the reply (simple SSE dialect)',
      tag,
      body: chatSchema,
      responses: { 200: { events: 'simple' } },
    },
    async (_req, res, { body }) => {
      const principal = principalOf(res);
      const { created, held } = await deps.feed.createHeld((stream) =>
        startChat(deps, principal, body, stream),
      );
      streamHeldSimpleRun(res, deps, created.run, { followed: held, afterSeq: 0 }, sseOptions);
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/runs/:runId',
      summary: 'Poll a chat run',
      tag,
      responses: { 200: { json: chatRunViewSchema } },
    },
    async (req, res) => {
      const run = await ownedRunById(deps, principalOf(res), req.params.runId);
      res.json(await chatViewOf(deps.db, run));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/runs/:runId/events',
      summary: 'Stream (or resume with Last-Event-ID) a run in the simple dialect',
      tag,
      query: resumeSchema,
      responses: { 200: { events: 'simple' } },
    },
    async (req, res, { query }) => {
      const afterSeq = lastEventId(req, query);
      const run = await ownedRunById(deps, principalOf(res), req.params.runId);
      await streamSimpleRun(res, deps, run, afterSeq, sseOptions);
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads',
      summary: "List the caller's threads, newest activity first",
      tag,
      query: cursorListSchema,
      responses: { 200: { json: cursorPageSchema(chatThreadSchema) } },
    },
    async (_req, res, { query }) => {
      res.json(await listThreads(deps, principalOf(res), query));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads',
      summary: 'Create a thread, or get the one per user and assistant (reuse: true)',
      tag,
      body: threadInputSchema,
      isBodyOptional: true,
      responses: { 200: { json: chatThreadSchema }, 201: { json: chatThreadSchema } },
    },
    async (_req, res, { body }) => {
      const { thread, isNew } = await openChatThread(deps, principalOf(res), body);
      res.status(isNew ? 201 : 200).json(thread);
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/messages',
      summary: "A thread's history",
      tag,
      query: listQuerySchema,
      responses: { 200: { json: listPageSchema(chatMessageSchema) } },
    },
    async (req, res, { query }) => {
      res.json(await chatHistory(deps, principalOf(res), req.params.threadId, query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/export',
      summary:
        'Export a thread: messages, times, tool calls, product cards and feedback (format json or markdown)',
      tag,
      query: exportQuerySchema,
      responses: { 200: { json: threadExportSchema, text: 'text/markdown' } },
    },
    async (req, res, { query }) => {
      const exported = await exportThread(deps, principalOf(res), req.params.threadId);
      res.attachment(`${exported.thread_id}.${query.format === 'markdown' ? 'md' : 'json'}`);
      if (query.format === 'json') res.json(exported);
      else res.type('text/markdown; charset=utf-8').send(toMarkdown(exported));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/threads/:threadId',
      summary: 'Clear (delete) a thread',
      tag,
      responses: { 200: { json: deletedSchema('chat.thread.deleted') } },
    },
    async (req, res) => {
      await deleteChatThread(deps, principalOf(res), req.params.threadId);
      res.json({ id: req.params.threadId, object: 'chat.thread.deleted', deleted: true });
    },
  );

  return routes;
}
