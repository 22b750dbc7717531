// /healthz (the process is alive) and /readyz (Postgres and Redis answer).
import { livenessSchema, readinessSchema } from '../schemas/operations.js';
import { RouteSet } from './route.js';

const tag = 'Operations';

export function healthRoutes(checkReady: () => Promise<boolean>): RouteSet {
  const routes = new RouteSet();
  routes.route(
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness',
      tag,
      responses: { 200: { json: livenessSchema } },
    },
    (_req, res) => {
      res.json({ status: 'ok' });
    },
  );
  routes.route(
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness (Postgres and Redis)',
      tag,
      responses: { 200: { json: readinessSchema }, 503: { json: readinessSchema } },
    },
    async (_req, res) => {
      const ready = await checkReady().catch(() => false);
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
    },
  );
  return routes;
}
