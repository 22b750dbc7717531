// /v1/threads and their messages: create (with messages), retrieve, modify, delete; messages CRUD and list.
import { toMessageObject, toThreadObject } from '@threadwork/shared';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { createMessageSchema } from '../schemas/common.js';
import {
  deletedSchema,
  listPageSchema,
  messageObjectSchema,
  threadObjectSchema,
} from '../schemas/objects.js';
import {
  createThreadSchema,
  listMessagesSchema,
  modifyMessageSchema,
  modifyThreadSchema,
} from '../schemas/threads.js';
import {
  createMessage,
  listMessages,
  modifyMessage,
  removeMessage,
  retrieveMessage,
} from '../services/messages.js';
import { createThread, modifyThread, removeThread, retrieveThread } from '../services/threads.js';
import { RouteSet } from './route.js';

export function threadsRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  const maxChars = deps.config.MAX_MESSAGE_CHARS;

  routes.route(
    {
      method: 'post',
      path: '/threads',
      summary: 'Create a thread',
      tag: 'Threads',
      body: createThreadSchema(maxChars),
      isBodyOptional: true,
      responses: { 200: { json: threadObjectSchema } },
    },
    async (_req, res, { body }) => {
      res.json(toThreadObject(await createThread(deps, principalOf(res), body)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId',
      summary: 'Retrieve a thread',
      tag: 'Threads',
      responses: { 200: { json: threadObjectSchema } },
    },
    async (req, res) => {
      res.json(toThreadObject(await retrieveThread(deps, principalOf(res), req.params.threadId)));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId',
      summary: 'Modify a thread',
      tag: 'Threads',
      body: modifyThreadSchema,
      isBodyOptional: true,
      responses: { 200: { json: threadObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(toThreadObject(await modifyThread(deps, principalOf(res), req.params.threadId, body)));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/threads/:threadId',
      summary: 'Delete a thread',
      tag: 'Threads',
      responses: { 200: { json: deletedSchema('thread.deleted') } },
    },
    async (req, res) => {
      await removeThread(deps, principalOf(res), req.params.threadId);
      res.json({ id: req.params.threadId, object: 'thread.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/messages',
      summary: 'Create a message',
      tag: 'Messages',
      body: createMessageSchema(maxChars),
      responses: { 200: { json: messageObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(toMessageObject(await createMessage(deps, principalOf(res), req.params.threadId, body)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/messages',
      summary: 'List messages',
      tag: 'Messages',
      query: listMessagesSchema,
      responses: { 200: { json: listPageSchema(messageObjectSchema) } },
    },
    async (req, res, { query }) => {
      res.json(await listMessages(deps, principalOf(res), req.params.threadId, query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/messages/:messageId',
      summary: 'Retrieve a message',
      tag: 'Messages',
      responses: { 200: { json: messageObjectSchema } },
    },
    async (req, res) => {
      const { threadId, messageId } = req.params;
      res.json(toMessageObject(await retrieveMessage(deps, principalOf(res), threadId, messageId)));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/messages/:messageId',
      summary: 'Modify a message',
      tag: 'Messages',
      body: modifyMessageSchema,
      isBodyOptional: true,
      responses: { 200: { json: messageObjectSchema } },
    },
    async (req, res, { body }) => {
      const { threadId, messageId } = req.params;
      res.json(toMessageObject(await modifyMessage(deps, principalOf(res), threadId, messageId, body)));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/threads/:threadId/messages/:messageId',
      summary: 'Delete a message',
      tag: 'Messages',
      responses: { 200: { json: deletedSchema('thread.message.deleted') } },
    },
    async (req, res) => {
      const { threadId, messageId } = req.params;
      await removeMessage(deps, principalOf(res), threadId, messageId);
      res.json({ id: messageId, object: 'thread.message.deleted', deleted: true });
    },
  );

  return routes;
}
