// Message feedback: users rate assistant messages under /api; admins list all feedback under /admin.
import { Router } from 'express';
import { principalOf, requireAdmin } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import { cursorListSchema, feedbackInputSchema } from '../schemas/chat.js';
import { giveFeedback, listFeedback } from '../services/chat/feedback.js';

export function feedbackRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/messages/:messageId/feedback', async (req, res) => {
    const input = parseInput(feedbackInputSchema, req.body);
    res.json(await giveFeedback(deps.db, principalOf(res), req.params.messageId, input));
  });
  return router;
}

export function adminFeedbackRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/feedback', requireAdmin, async (req, res) => {
    const query = parseInput(cursorListSchema, req.query);
    res.json(await listFeedback(deps.db, query));
  });
  return router;
}
