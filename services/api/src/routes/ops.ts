// Operations endpoints: Prometheus metrics, the health report, the OpenAPI document and its two reference pages
// (/docs, /redoc), and the queue dashboard.
import { createRequire } from 'node:module';
import path from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { sql } from 'drizzle-orm';
import express, { type RequestHandler, type Response } from 'express';
import type { AppDeps } from '../deps.js';
import { docsPage, type OpenApiDocument, openApiDocument, openApiDocumentSchema } from '../openapi.js';
import { type ApiHealth, apiHealthSchema } from '../schemas/operations.js';
import { type RouteCatalog, RouteSet } from './route.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const tag = 'Operations';

/** How long a health probe may take before its dependency counts as unreachable. */
const PROBE_TIMEOUT_MS = 2_000;

/** ReDoc's standalone bundle, served from its npm package: the page works without a CDN or the network. */
const REDOC_BUNDLES = path.dirname(
  createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'),
);

/** A ReDoc page over /openapi.json; its script is served at /redoc/assets from the package. */
const REDOC_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Threadwork API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{margin:0}</style></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/redoc/assets/redoc.standalone.js"></script></body></html>`;

/** True when the probe answers within the deadline. */
async function answers(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => true), deadline]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** What is configured (never its URL or key) and whether Postgres and Redis answer. */
async function healthReport(deps: AppDeps): Promise<ApiHealth> {
  const [postgres, redis] = await Promise.all([
    answers(() => deps.db.execute(sql`select 1`)),
    answers(() => deps.redis.ping()),
  ]);
  return {
    status: postgres && redis ? 'ok' : 'degraded',
    dependencies: {
      postgres: { configured: true, reachable: postgres },
      redis: { configured: true, reachable: redis },
      openai: { configured: deps.config.OPENAI_API_KEY !== undefined },
      model_providers: { configured: Object.keys(deps.config.MODEL_PROVIDERS) },
    },
    default_model: deps.config.defaultModel,
  };
}

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
      path: '/api/health',
      summary: 'Health of the API and which dependencies are configured and reachable (no key needed)',
      tag,
      responses: { 200: { json: apiHealthSchema }, 503: { json: apiHealthSchema } },
    },
    async (_req, res) => {
      const report = await healthReport(deps);
      res.status(report.status === 'ok' ? 200 : 503).json(report);
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
  routes.route(
    {
      method: 'get',
      path: '/redoc',
      summary: 'The API reference rendered by ReDoc',
      tag,
      responses: { 200: { text: 'text/html' } },
    },
    (_req, res) => {
      res.type('html').send(REDOC_PAGE);
    },
  );
  routes.router.use('/redoc/assets', express.static(REDOC_BUNDLES, { index: false, maxAge: '1d' }));
  return routes;
}

export function queueDashboard(deps: AppDeps): RequestHandler {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [
      new BullMQAdapter(deps.queues.runs),
      new BullMQAdapter(deps.queues.tools),
      new BullMQAdapter(deps.queues.ingest),
    ],
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
