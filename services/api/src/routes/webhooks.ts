// /admin/webhooks: endpoints that receive a run's ending (docs/webhooks.md). Any key manages its own endpoints; the
// admin key sees and deletes everyone's (`webhookScope`).
import { type RequestHandler, Router } from 'express';
import { principalOf, refuseCrossSiteWrites } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { deletedSchema } from '../schemas/objects.js';
import {
  createdWebhookSchema,
  createWebhookSchema,
  deliveriesQuerySchema,
  webhookDeliveryListSchema,
  webhookListSchema,
} from '../schemas/webhooks.js';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks } from '../services/webhooks.js';
import { RouteSet } from './route.js';

const tag = 'Admin';

/**
 * What runs before the webhook routes, for /admin/webhooks only (the rest of /admin is for the admin key): the key
 * check, the rate limit, the cross-site refusal of admin writes, then the body.
 */
export function webhooksGate(gate: {
  auth: RequestHandler;
  limit: RequestHandler;
  body: RequestHandler;
}): RequestHandler {
  return Router().use('/webhooks', gate.auth, gate.limit, refuseCrossSiteWrites, gate.body);
}

export function webhooksRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();

  routes.route(
    {
      method: 'post',
      path: '/webhooks',
      summary: 'Register a webhook endpoint for run endings; the answer shows its signing secret once',
      tag,
      body: createWebhookSchema,
      responses: { 201: { json: createdWebhookSchema } },
    },
    async (_req, res, { body }) => {
      res.status(201).json(await createWebhook(deps, principalOf(res), body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/webhooks',
      summary: 'List webhook endpoints (yours; every key’s for the admin)',
      tag,
      responses: { 200: { json: webhookListSchema } },
    },
    async (_req, res) => {
      res.json(await listWebhooks(deps, principalOf(res)));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/webhooks/:webhookId',
      summary: 'Delete a webhook endpoint and its delivery log',
      tag,
      responses: { 200: { json: deletedSchema('webhook_endpoint.deleted') } },
    },
    async (req, res) => {
      await deleteWebhook(deps, principalOf(res), req.params.webhookId);
      res.json({ id: req.params.webhookId, object: 'webhook_endpoint.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/webhooks/:webhookId/deliveries',
      summary: 'The delivery log of a webhook endpoint: each attempt, newest first',
      tag,
      query: deliveriesQuerySchema,
      responses: { 200: { json: webhookDeliveryListSchema } },
    },
    async (req, res, { query }) => {
      res.json(await listDeliveries(deps, principalOf(res), req.params.webhookId, query.limit));
    },
  );

  return routes;
}
