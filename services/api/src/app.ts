// createApp(deps): the express application, without listen(), so tests mount it.

import cors from 'cors';
import express, { type Express } from 'express';
import { authenticate, refuseCrossSiteWrites, requireAdmin, requireProjectAdmin } from './auth.js';
import type { AppDeps } from './deps.js';
import { limitStreams } from './end-user-limits.js';
import { errorHandler, notFoundRoute } from './errors.js';
import { InvalidCredentials, limitRequests } from './rate-limit.js';
import { readBody, refuseUnstorableUrl } from './request-input.js';
import { logRequests } from './request-log.js';
import { adminBodyReader, adminRoutes } from './routes/admin.js';
import { assistantsRoutes } from './routes/assistants.js';
import { chatRoutes } from './routes/chat.js';
import { adminFeedbackRoutes, feedbackRoutes } from './routes/feedback.js';
import { exceptUploads, filesRoutes } from './routes/files.js';
import { gatewayRoutes } from './routes/gateway.js';
import { healthRoutes } from './routes/health.js';
import {
  askBrowserForKey,
  opsRoutes,
  QUEUE_DASHBOARD_PATH,
  queueDashboard,
  timeRequests,
} from './routes/ops.js';
import { projectsRoutes } from './routes/projects.js';
import { RouteCatalog } from './routes/route.js';
import { runsRoutes } from './routes/runs.js';
import { threadsRoutes } from './routes/threads.js';
import { adminUsageRoutes, usageRoutes } from './routes/usage.js';
import { vectorStoresRoutes } from './routes/vector-stores.js';
import { webChatPage } from './routes/web-page.js';
import { webhooksGate, webhooksRoutes } from './routes/webhooks.js';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // The client's address (req.ip) comes from X-Forwarded-For only behind the proxies TRUST_PROXY names.
  app.set('trust proxy', deps.config.TRUST_PROXY);
  app.set('query parser', 'extended');
  app.use(logRequests(deps.log, (req) => req.url === '/healthz' || req.url === '/readyz'));
  app.use(timeRequests(deps));
  if (deps.config.CORS_ORIGINS.length > 0) {
    const origins = deps.config.CORS_ORIGINS;
    app.use(
      cors({
        origin: origins.includes('*') ? '*' : origins,
        exposedHeaders: ['x-request-id', 'retry-after'],
        maxAge: 600,
      }),
    );
  }
  // Every operation is mounted through the catalog, which the OpenAPI document is generated from.
  const catalog = new RouteCatalog();
  app.use(refuseUnstorableUrl);
  catalog.mount(app, '', [], healthRoutes(deps.checkReady), opsRoutes(deps, catalog));
  app.use(webChatPage());
  // Bodies are read after the key is checked: a request without one is refused before its body is read.
  const { config } = deps;
  const invalid = new InvalidCredentials(
    deps.redis,
    config.QUEUE_PREFIX,
    config.RATE_LIMIT_INVALID_AUTH_PER_MINUTE,
  );
  const auth = authenticate(deps.db, deps.keys, { tokens: deps.tokens, invalid });
  const limit = limitRequests(deps.redis, config.QUEUE_PREFIX, {
    perKeyPerMinute: config.RATE_LIMIT_PER_MINUTE,
    perUserPerMinute: config.RATE_LIMIT_PER_USER_PER_MINUTE,
  });
  const streams = limitStreams(deps);
  const body = readBody({
    limit: deps.config.REQUEST_BODY_LIMIT,
    deadlineMs: deps.config.HTTP_REQUEST_TIMEOUT_MS,
  });
  // The runs routes first: their POST /threads/runs must not be read as POST /threads/:threadId.
  catalog.mount(
    app,
    '/v1',
    [auth, limit, exceptUploads(body), streams],
    assistantsRoutes(deps),
    runsRoutes(deps),
    threadsRoutes(deps),
    gatewayRoutes(deps),
    usageRoutes(deps),
    filesRoutes(deps),
    vectorStoresRoutes(deps),
  );
  app.use(
    QUEUE_DASHBOARD_PATH,
    askBrowserForKey,
    authenticate(deps.db, deps.keys, { acceptsBasic: true }),
    requireAdmin,
    refuseCrossSiteWrites,
    queueDashboard(deps),
  );
  catalog.mount(app, '/api', [auth, limit, body, streams], chatRoutes(deps), feedbackRoutes(deps));
  // Before the admin routes: /admin/webhooks takes any key (each manages its own endpoints).
  catalog.mount(app, '/admin', [webhooksGate({ auth, limit, body })], webhooksRoutes(deps));
  // Projects first: a project's own admin key manages it; every other admin route is the deployment admin's.
  catalog.mount(
    app,
    '/admin',
    [auth, requireProjectAdmin, refuseCrossSiteWrites, adminBodyReader(deps)],
    projectsRoutes(deps),
  );
  catalog.mount(
    app,
    '/admin',
    [auth, requireAdmin, refuseCrossSiteWrites, adminBodyReader(deps)],
    adminRoutes(deps),
    adminFeedbackRoutes(deps),
    adminUsageRoutes(deps),
  );
  app.use(notFoundRoute);
  app.use(errorHandler(deps.log));
  return app;
}
