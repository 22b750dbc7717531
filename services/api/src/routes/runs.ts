// /v1 runs: create (JSON or SSE), create-thread-and-run, retrieve, modify, list, cancel, submit_tool_outputs, steps.
import { ApiError, type RunObject, type RunRow, toRunObject, toRunStepObject } from '@threadwork/shared';
import type { Request, Response } from 'express';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { cancelRun } from '../runs/cancel-run.js';
import {
  type CreatedRun,
  createRun,
  createThreadAndRun,
  type NewRunOptions,
  NO_RETRY,
} from '../runs/create-run.js';
import { submitToolOutputs } from '../runs/submit-tool-outputs.js';
import { listQuerySchema } from '../schemas/common.js';
import { listPageSchema, runObjectSchema, runStepObjectSchema } from '../schemas/objects.js';
import {
  type CreateThreadAndRunInput,
  createRunSchema,
  createThreadAndRunSchema,
  includesFileSearchContent,
  modifyRunSchema,
  runIncludeQuerySchema,
  runStepsListQuerySchema,
  submitToolOutputsSchema,
} from '../schemas/runs.js';
import { listRunSteps, listRuns, modifyRun, ownedRun, retrieveRunStep } from '../services/runs.js';
import { requestedExtraEvents, streamAssistantsRun, streamHeldRun } from '../sse/assistants.js';
import { RouteSet } from './route.js';

const tag = 'Runs';

/**
 * The thread a create-thread-and-run makes. The request's own `tool_resources` (the run's, in OpenAI's API) go on the
 * new thread when it names none, which is where file_search finds them.
 */
function newThreadOf(body: CreateThreadAndRunInput): NonNullable<CreateThreadAndRunInput['thread']> {
  const thread = body.thread ?? {};
  return thread.tool_resources || !body.tool_resources
    ? thread
    : { ...thread, tool_resources: body.tool_resources };
}
/** A run's JSON, or (`stream: true`) its events in the Assistants dialect. */
const runOrEvents = { 200: { json: runObjectSchema, events: 'assistants' } } as const;

export function runsRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  const maxChars = deps.config.MAX_MESSAGE_CHARS;
  /** The stream's settings, with the extra events and fields the request asks for. */
  const sseOptions = (req: Request, withFileSearchContent = false) => ({
    heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
    maxLifetimeMs: deps.config.SSE_MAX_LIFETIME_MS,
    clients: deps.metrics.sseClients,
    extras: requestedExtraEvents(req.get('x-threadwork-events')),
    withFileSearchContent,
  });

  /** Answers tool outputs taken by a run: its JSON, or its events from `firstSeq` on. Never worth a retry now. */
  async function answerSubmitted(
    req: Request,
    res: Response<RunObject>,
    run: RunRow,
    firstSeq: number,
    stream: boolean | null | undefined,
  ) {
    if (!stream) {
      res.json(toRunObject(run));
      return;
    }
    try {
      await streamAssistantsRun(res, deps.feed, run, firstSeq - 1, sseOptions(req));
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
    req: Request,
    res: Response<RunObject>,
    stream: boolean | null | undefined,
    create: (options: NewRunOptions) => Promise<CreatedRun>,
    withFileSearchContent = false,
  ): Promise<void> {
    if (!stream) {
      res.json(toRunObject((await create({})).run));
      return;
    }
    const { held } = await deps.feed.createHeld(create);
    streamHeldRun(res, held, sseOptions(req, withFileSearchContent));
  }

  routes.route(
    {
      method: 'post',
      path: '/threads/runs',
      summary: 'Create a thread and run it (stream: true answers SSE)',
      tag,
      body: createThreadAndRunSchema(maxChars),
      query: runIncludeQuerySchema,
      responses: runOrEvents,
    },
    async (req, res, { body, query }) => {
      const principal = principalOf(res);
      await answerNewRun(
        req,
        res,
        body.stream,
        (options) => createThreadAndRun(deps, principal, newThreadOf(body), body, options),
        includesFileSearchContent(query.include),
      );
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/runs',
      summary: 'Create a run (stream: true answers SSE)',
      tag,
      body: createRunSchema(maxChars),
      query: runIncludeQuerySchema,
      responses: runOrEvents,
    },
    async (req, res, { body, query }) => {
      const principal = principalOf(res);
      await answerNewRun(
        req,
        res,
        body.stream,
        (options) =>
          createRun(deps, principal, req.params.threadId, body, {
            ...options,
            additionalMessages: body.additional_messages,
            multitaskStrategy: body.multitask_strategy ?? 'reject',
          }),
        includesFileSearchContent(query.include),
      );
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/runs',
      summary: 'List runs',
      tag,
      query: listQuerySchema,
      responses: { 200: { json: listPageSchema(runObjectSchema) } },
    },
    async (req, res, { query }) => {
      res.json(await listRuns(deps, principalOf(res), req.params.threadId, query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/runs/:runId',
      summary: 'Retrieve a run',
      tag,
      responses: { 200: { json: runObjectSchema } },
    },
    async (req, res) => {
      const run = await ownedRun(deps, principalOf(res), req.params.threadId, req.params.runId);
      res.set('openai-poll-after-ms', String(deps.config.POLL_AFTER_MS));
      res.json(toRunObject(run));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/runs/:runId',
      summary: 'Modify a run',
      tag,
      body: modifyRunSchema,
      isBodyOptional: true,
      responses: { 200: { json: runObjectSchema } },
    },
    async (req, res, { body }) => {
      const { threadId, runId } = req.params;
      res.json(toRunObject(await modifyRun(deps, principalOf(res), threadId, runId, body)));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/runs/:runId/cancel',
      summary: 'Cancel a run',
      tag,
      responses: { 200: { json: runObjectSchema } },
    },
    async (req, res) => {
      const run = await ownedRun(deps, principalOf(res), req.params.threadId, req.params.runId);
      res.json(toRunObject(await cancelRun(deps, run)));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/threads/:threadId/runs/:runId/submit_tool_outputs',
      summary: 'Submit tool outputs (stream: true answers SSE)',
      tag,
      body: submitToolOutputsSchema,
      responses: runOrEvents,
    },
    async (req, res, { body }) => {
      const run = await ownedRun(deps, principalOf(res), req.params.threadId, req.params.runId);
      const submitted = await submitToolOutputs(deps, run, body.tool_outputs);
      await answerSubmitted(req, res, submitted.run, submitted.firstSeq, body.stream);
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/runs/:runId/steps',
      summary: 'List run steps',
      tag,
      query: runStepsListQuerySchema,
      responses: { 200: { json: listPageSchema(runStepObjectSchema) } },
    },
    async (req, res, { query: { include, ...query } }) => {
      const { threadId, runId } = req.params;
      const view = { withFileSearchContent: includesFileSearchContent(include) };
      res.json(await listRunSteps(deps, principalOf(res), threadId, runId, query, view));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/threads/:threadId/runs/:runId/steps/:stepId',
      summary: 'Retrieve a run step',
      tag,
      query: runIncludeQuerySchema,
      responses: { 200: { json: runStepObjectSchema } },
    },
    async (req, res, { query }) => {
      const { threadId, runId, stepId } = req.params;
      const step = await retrieveRunStep(deps, principalOf(res), threadId, runId, stepId);
      res.json(toRunStepObject(step, { withFileSearchContent: includesFileSearchContent(query.include) }));
    },
  );

  return routes;
}
