// /v1/assistants: create, retrieve, modify, delete, list.
import { toAssistantObject } from '@threadwork/shared';
import { backendPrincipalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { createAssistantSchema, modifyAssistantSchema } from '../schemas/assistants.js';
import { listQuerySchema } from '../schemas/common.js';
import { assistantObjectSchema, deletedSchema, listPageSchema } from '../schemas/objects.js';
import {
  createAssistant,
  listAssistants,
  modifyAssistant,
  removeAssistant,
  retrieveAssistant,
} from '../services/assistants.js';
import { RouteSet } from './route.js';

const tag = 'Assistants';

export function assistantsRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();

  routes.route(
    {
      method: 'post',
      path: '/assistants',
      summary: 'Create an assistant',
      tag,
      body: createAssistantSchema,
      responses: { 200: { json: assistantObjectSchema } },
    },
    async (_req, res, { body }) => {
      res.json(toAssistantObject(await createAssistant(deps, backendPrincipalOf(res, 'assistants'), body)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/assistants',
      summary: 'List assistants',
      tag,
      query: listQuerySchema,
      responses: { 200: { json: listPageSchema(assistantObjectSchema) } },
    },
    async (_req, res, { query }) => {
      res.json(await listAssistants(deps, backendPrincipalOf(res, 'assistants'), query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/assistants/:assistantId',
      summary: 'Retrieve an assistant',
      tag,
      responses: { 200: { json: assistantObjectSchema } },
    },
    async (req, res) => {
      res.json(
        toAssistantObject(
          await retrieveAssistant(deps, backendPrincipalOf(res, 'assistants'), req.params.assistantId),
        ),
      );
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/assistants/:assistantId',
      summary: 'Modify an assistant',
      tag,
      body: modifyAssistantSchema,
      isBodyOptional: true,
      responses: { 200: { json: assistantObjectSchema } },
    },
    async (req, res, { body }) => {
      const row = await modifyAssistant(
        deps,
        backendPrincipalOf(res, 'assistants'),
        req.params.assistantId,
        body,
      );
      res.json(toAssistantObject(row));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/assistants/:assistantId',
      summary: 'Delete an assistant',
      tag,
      responses: { 200: { json: deletedSchema('assistant.deleted') } },
    },
    async (req, res) => {
      await removeAssistant(deps, backendPrincipalOf(res, 'assistants'), req.params.assistantId);
      res.json({ id: req.params.assistantId, object: 'assistant.deleted', deleted: true });
    },
  );

  return routes;
}
