// createApp(deps): the express application, without listen(), so tests mount it.

import cors from 'cors';
import express, { type Express } from 'express';
import { authenticate, requireAdmin } from './auth.js';
import type { AppDeps } from './deps.js';
import { errorHandler, notFoundRoute } from './errors.js';
import { limitRequests } from './rate-limit.js';
import { logRequests } from './request-log.js';
import { adminRouter, catalogBodyParsers } from './routes/admin.js';
import { assistantsRouter } from './routes/assistants.js';
import { chatRouter } from './routes/chat.js';
import { adminFeedbackRouter, feedbackRouter } from './routes/feedback.js';
import { healthRouter } from './routes/health.js';
import {
  askBrowserForKey,
  opsRouter,
  QUEUE_DASHBOARD_PATH,
  queueDashboard,
  timeRequests,
} from './routes/ops.js';
import { runsRouter } from './routes/runs.js';
import { threadsRouter } from './routes/threads.js';
import { webChatPage } from './routes/web-page.js';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
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
  app.use(healthRouter(deps.checkReady));
  app.use(opsRouter(deps));
  app.use(webChatPage());
  app.use('/admin/catalog', catalogBodyParsers);
  app.use(express.json({ limit: deps.config.REQUEST_BODY_LIMIT }));
  const auth = authenticate(deps.db, deps.keys);
  const limit = limitRequests(deps.redis, deps.config.QUEUE_PREFIX, deps.config.RATE_LIMIT_PER_MINUTE);
  // The runs router first: its POST /threads/runs must not be read as POST /threads/:threadId.
  app.use('/v1', auth, limit, assistantsRouter(deps), runsRouter(deps), threadsRouter(deps));
  app.use(QUEUE_DASHBOARD_PATH, askBrowserForKey, auth, requireAdmin, queueDashboard(deps));
  app.use('/api', auth, limit, chatRouter(deps), feedbackRouter(deps));
  app.use('/admin', auth, adminRouter(deps), adminFeedbackRouter(deps));
  app.use(notFoundRoute);
  app.use(errorHandler(deps.log));
  return app;
}
