// /admin: API keys (create, list, revoke) and the product catalog import. Mounted behind `requireAdmin`.
import { catalogImportSchema, importCatalog } from '@threadwork/shared/catalog';
import express from 'express';
import type { AppDeps } from '../deps.js';
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

/** Catalog uploads (JSON, or CSV as text) may be larger than ordinary requests: parsed before the global parser. */
export const catalogBodyParsers = [
  express.json({ limit: CATALOG_BODY_LIMIT }),
  express.text({ type: ['text/csv', 'text/plain'], limit: CATALOG_BODY_LIMIT }),
];

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
      summary: 'Replace the product catalog (JSON, or CSV as text); an unchanged upload is skipped (admin)',
      tag,
      body: catalogImportSchema,
      textBody: ['text/csv', 'text/plain'],
      responses: { 200: { json: catalogImportResultSchema } },
    },
    async (_req, res, { body }) => {
      res.json(await importCatalog(deps.db, body));
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
