// Operations endpoints: Prometheus metrics, the OpenAPI document and its docs page, and the queue dashboard.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type RequestHandler, Router } from 'express';
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

/** Times every request by its matched route (not its raw path, so ids do not explode the label set). */
export function timeRequests(deps: AppDeps): RequestHandler {
  return (req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({ route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    next();
  };
}
