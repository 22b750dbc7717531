// /admin: API keys of the default project (create, list, revoke) and the acting project's catalog import. Mounted
// behind `requireAdmin`.
import { catalogImportSchema, importCatalog } from '@threadwork/shared/catalog';
import { type RequestHandler, Router } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { readBody } from '../request-input.js';
import {
  apiKeyListSchema,
  catalogImportResultSchema,
  createdKeySchema,
  createKeySchema,
} from '../schemas/admin.js';
import { deletedSchema } from '../schemas/objects.js';
import { createApiKey, listApiKeys, revokeKey } from '../services/api-keys.js';
import { RouteSet } from './route.js';

const tag = 'Admin';
const CATALOG_BODY_LIMIT = '20mb';

/**
 * Admin bodies, read after the admin key is checked: catalog uploads (JSON, or CSV) may be larger than other
 * requests. Only media types a page on another site cannot send without asking first (not `text/plain`).
 */
export function adminBodyReader(deps: AppDeps): RequestHandler {
  const deadlineMs = deps.config.HTTP_REQUEST_TIMEOUT_MS;
  const router = Router();
  const catalogBody = readBody({ limit: CATALOG_BODY_LIMIT, deadlineMs, textTypes: ['text/csv'] });
  router.use('/catalog', catalogBody);
  router.use('/projects/:projectId/catalog', catalogBody);
  router.use(readBody({ limit: deps.config.REQUEST_BODY_LIMIT, deadlineMs }));
  return router;
}

export function adminRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();

  routes.route(
    {
      method: 'post',
      path: '/keys',
      summary: 'Create an API key (admin)',
      tag,
      body: createKeySchema,
      responses: { 201: { json: createdKeySchema } },
    },
    async (_req, res, { body }) => {
      res.status(201).json(await createApiKey(deps, body));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/catalog',
      summary:
        "Replace the acting project's product catalog (the default project's, or X-Threadwork-Project's); see POST /admin/projects/{project_id}/catalog (admin)",
      tag,
      body: catalogImportSchema,
      textBody: ['text/csv'],
      responses: { 200: { json: catalogImportResultSchema } },
    },
    async (_req, res, { body }) => {
      res.json(await importCatalog(deps.db, principalOf(res).projectId, body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/keys',
      summary: 'List API keys (admin)',
      tag,
      responses: { 200: { json: apiKeyListSchema } },
    },
    async (_req, res) => {
      res.json(await listApiKeys(deps));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/keys/:keyId',
      summary: 'Revoke an API key (admin)',
      tag,
      responses: { 200: { json: deletedSchema('key.deleted') } },
    },
    async (req, res) => {
      await revokeKey(deps, req.params.keyId);
      res.json({ id: req.params.keyId, object: 'key.deleted', deleted: true });
    },
  );

  return routes;
}
