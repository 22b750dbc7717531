// /v1 runs: create (JSON or SSE), create-thread-and-run, retrieve, modify, list, cancel, submit_tool_outputs, steps.

import { ApiError, notFound, type RunRow, schema, toRunObject, toRunStepObject } from '@threadwork/shared';
import { and, eq } from 'drizzle-orm';
import { type Response, Router } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';
import { listRows } from '../repositories/pagination.js';
import { findOwnedRun } from '../repositories/runs.js';
import { ownedThread } from '../repositories/threads.js';
import { NO_RETRY } from '../runs/announce.js';
import { cancelRun } from '../runs/cancel-run.js';
import { type CreatedRun, createRun, createThreadAndRun, type NewRunOptions } from '../runs/create-run.js';
import { submitToolOutputs } from '../runs/submit-tool-outputs.js';
import { listQuerySchema } from '../schemas/common.js';
import {
  createRunSchema,
  createThreadAndRunSchema,
  modifyRunSchema,
  submitToolOutputsSchema,
} from '../schemas/runs.js';
import { streamAssistantsRun, streamHeldRun } from '../sse/assistants.js';

export function runsRouter(deps: AppDeps): Router {
  const router = Router();
  const runSchema = createRunSchema(deps.config.MAX_MESSAGE_CHARS);
  const threadAndRunSchema = createThreadAndRunSchema(deps.config.MAX_MESSAGE_CHARS);
  const sseOptions = {
    heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
    maxLifetimeMs: deps.config.SSE_MAX_LIFETIME_MS,
  };

  /** The caller's run on the caller's thread in one read; the thread is looked up only to answer its own 404. */
  async function ownRun(res: Response, threadId: string, runId: string): Promise<RunRow> {
    const principal = principalOf(res);
    const run = await findOwnedRun(deps.db, principal, runId);
    if (run?.threadId === threadId) return run;
    await ownedThread(deps.db, principal, threadId);
    throw notFound('run', runId);
  }

  /** Answers tool outputs taken by a run: its JSON, or its events from `firstSeq` on. Never worth a retry now. */
  async function answerSubmitted(
    res: Response,
    run: RunRow,
    firstSeq: number,
    stream: boolean | null | undefined,
  ) {
    if (!stream) {
      res.json(toRunObject(run));
      return;
    }
    try {
      await streamAssistantsRun(res, deps.feed, run.id, firstSeq - 1, sseOptions);
    } catch (error) {
      deps.log.error({ err: error, runId: run.id }, 'could not stream run');
      throw new ApiError(
        500,
        `Run ${run.id} took the tool outputs but its events cannot be streamed; retrieve it instead.`,
        {
          type: 'server_error',
          code: 'server_error',
          headers: NO_RETRY,
        },
      );
    }
  }

  /** Answers a new run: its JSON, or its events from a stream that listens before the first one is appended. */
  async function answerNewRun(
    res: Response,
    stream: boolean | null | undefined,
    create: (options: NewRunOptions) => Promise<CreatedRun>,
  ): Promise<void> {
    if (!stream) {
      res.json(toRunObject((await create({})).run));
      return;
    }
    const { held } = await deps.feed.createHeld(create);
    streamHeldRun(res, held, sseOptions);
  }

  router.post('/threads/runs', async (req, res) => {
    const input = parseInput(threadAndRunSchema, req.body);
    const principal = principalOf(res);
    await answerNewRun(res, input.stream, (options) =>
      createThreadAndRun(deps, principal, input.thread ?? {}, input, options),
    );
  });

  router.post('/threads/:threadId/runs', async (req, res) => {
    const input = parseInput(runSchema, req.body);
    const principal = principalOf(res);
    await answerNewRun(res, input.stream, (options) =>
      createRun(deps, principal, req.params.threadId, input, {
        ...options,
        additionalMessages: input.additional_messages,
      }),
    );
  });

  router.get('/threads/:threadId/runs', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const thread = await ownedThread(deps.db, principalOf(res), req.params.threadId);
    const scope = eq(schema.runs.threadId, thread.id);
    res.json(await listRows(deps.db, schema.runs, query, scope, toRunObject));
  });

  router.get('/threads/:threadId/runs/:runId', async (req, res) => {
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    res.set('openai-poll-after-ms', String(deps.config.POLL_AFTER_MS));
    res.json(toRunObject(run));
  });

  router.post('/threads/:threadId/runs/:runId', async (req, res) => {
    const input = parseInput(modifyRunSchema, req.body ?? {});
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    if (input.metadata === undefined) {
      res.json(toRunObject(run));
      return;
    }
    const [row] = await deps.db
      .update(schema.runs)
      .set({ metadata: input.metadata ?? {} })
      .where(eq(schema.runs.id, run.id))
      .returning();
    res.json(toRunObject(row ?? run));
  });

  router.post('/threads/:threadId/runs/:runId/cancel', async (req, res) => {
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    res.json(toRunObject(await cancelRun(deps, run)));
  });

  router.post('/threads/:threadId/runs/:runId/submit_tool_outputs', async (req, res) => {
    const input = parseInput(submitToolOutputsSchema, req.body);
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    const submitted = await submitToolOutputs(deps, run, input.tool_outputs);
    await answerSubmitted(res, submitted.run, submitted.firstSeq, input.stream);
  });

  router.get('/threads/:threadId/runs/:runId/steps', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    const scope = eq(schema.runSteps.runId, run.id);
    res.json(await listRows(deps.db, schema.runSteps, query, scope, toRunStepObject));
  });

  router.get('/threads/:threadId/runs/:runId/steps/:stepId', async (req, res) => {
    const run = await ownRun(res, req.params.threadId, req.params.runId);
    const [step] = await deps.db
      .select()
      .from(schema.runSteps)
      .where(and(eq(schema.runSteps.id, req.params.stepId), eq(schema.runSteps.runId, run.id)));
    if (!step) throw notFound('step', req.params.stepId);
    res.json(toRunStepObject(step));
  });

  return router;
}
