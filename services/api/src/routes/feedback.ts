// Message feedback: users rate assistant messages under /api; admins list all feedback under /admin.
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  adminFeedbackObjectSchema,
  cursorListSchema,
  cursorPageSchema,
  feedbackInputSchema,
  feedbackObjectSchema,
} from '../schemas/chat.js';
import { giveFeedback, listFeedback } from '../services/chat/feedback.js';
import { RouteSet } from './route.js';

export function feedbackRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  routes.route(
    {
      method: 'post',
      path: '/messages/:messageId/feedback',
      summary: 'Rate an assistant message',
      tag: 'Chat',
      body: feedbackInputSchema,
      responses: { 200: { json: feedbackObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(await giveFeedback(deps.db, principalOf(res), req.params.messageId, body));
    },
  );
  return routes;
}

/** Mounted behind `requireAdmin`. */
export function adminFeedbackRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  routes.route(
    {
      method: 'get',
      path: '/feedback',
      summary: 'List message feedback (admin)',
      tag: 'Admin',
      query: cursorListSchema,
      responses: { 200: { json: cursorPageSchema(adminFeedbackObjectSchema) } },
    },
    async (_req, res, { query }) => {
      res.json(await listFeedback(deps.db, query));
    },
  );
  return routes;
}
