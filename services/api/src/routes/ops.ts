// Operations endpoints: Prometheus metrics, the OpenAPI document and its docs page, and the queue dashboard.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type RequestHandler, type Response, Router } from 'express';
import type { AppDeps } from '../deps.js';
import { docsPage, openApiDocument } from '../openapi.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export function opsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  const page = docsPage(document);
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });
  return router;
}

export function queueDashboard(deps: AppDeps): RequestHandler {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queues.runs), new BullMQAdapter(deps.queues.tools)],
    serverAdapter: adapter,
  });
  return adapter.getRouter() as RequestHandler;
}

/** Lets a browser prompt for the admin key (as the Basic auth password) before the dashboard's auth runs. */
export const askBrowserForKey: RequestHandler = (req, res, next) => {
  if (!req.get('authorization'))
    res.set('WWW-Authenticate', 'Basic realm="Threadwork admin", charset="UTF-8"');
  next();
};

/**
 * Times every finished request by its matched route (not its raw path, so ids do not explode the label set). One
 * listener function serves every request and the start sits in res.locals: an SSE stream keeps its request open for
 * minutes, so nothing here is allocated per request beyond that.
 */
export function timeRequests(deps: AppDeps): RequestHandler {
  function observe(this: Response): void {
    const route = (this.req.route as { path?: string } | undefined)?.path;
    deps.metrics.httpDuration.observe(
      {
        method: this.req.method,
        route: route ? `${this.req.baseUrl}${route}` : 'unmatched',
        status: String(this.statusCode),
      },
      (performance.now() - this.locals.timedSince) / 1000,
    );
  }
  return (_req, res, next) => {
    res.locals.timedSince = performance.now();
    res.on('finish', observe);
    next();
  };
}
