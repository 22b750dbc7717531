// Usage reports: GET /v1/usage (the caller's project) and GET /admin/usage (every project, or one).
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { adminUsageQuerySchema, usageQuerySchema, usageReportSchema } from '../schemas/usage.js';
import { usageReport } from '../services/usage.js';
import { RouteSet } from './route.js';

export function usageRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  routes.route(
    {
      method: 'get',
      path: '/usage',
      summary: "The caller's usage: calls, tokens and cost by day, model (group_by), with totals",
      tag: 'Gateway',
      query: usageQuerySchema,
      responses: { 200: { json: usageReportSchema } },
    },
    async (_req, res, { query }) => {
      // The caller's own project, whoever asks (GET /admin/usage covers every project).
      res.json(await usageReport(deps.db, { ...principalOf(res), isDeploymentAdmin: false }, query));
    },
  );
  return routes;
}

export function adminUsageRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  routes.route(
    {
      method: 'get',
      path: '/usage',
      summary: 'Usage across keys: calls, tokens and cost by day, model and key (group_by), with totals',
      tag: 'Admin',
      query: adminUsageQuerySchema,
      responses: { 200: { json: usageReportSchema } },
    },
    async (_req, res, { query }) => {
      res.json(await usageReport(deps.db, principalOf(res), query));
    },
  );
  return routes;
}
