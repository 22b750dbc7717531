// Operations endpoints: Prometheus metrics, the OpenAPI document and its docs page, and the queue dashboard.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { RequestHandler, Response } from 'express';
import type { AppDeps } from '../deps.js';
import { docsPage, type OpenApiDocument, openApiDocument, openApiDocumentSchema } from '../openapi.js';
import { type RouteCatalog, RouteSet } from './route.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const tag = 'Operations';

/** The OpenAPI document is generated once, on first request, when every route set has been mounted. */
export function opsRoutes(deps: AppDeps, catalog: RouteCatalog): RouteSet {
  const routes = new RouteSet();
  let document: OpenApiDocument | undefined;
  const generated = () => {
    document ??= openApiDocument(catalog.operations);
    return document;
  };
  let page: string | undefined;
  routes.route(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag,
      responses: { 200: { text: 'text/plain' } },
    },
    async (_req, res) => {
      res.set('Content-Type', deps.metrics.registry.contentType);
      res.send(await deps.metrics.registry.metrics());
    },
  );
  routes.route(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This OpenAPI document',
      tag,
      responses: { 200: { json: openApiDocumentSchema } },
    },
    (_req, res) => {
      res.json(generated());
    },
  );
  routes.route(
    {
      method: 'get',
      path: '/docs',
      summary: 'The API reference as a web page',
      tag,
      responses: { 200: { text: 'text/html' } },
    },
    (_req, res) => {
      page ??= docsPage(generated());
      res.type('html').send(page);
    },
  );
  return routes;
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
