// The BullMQ processor of tool.invoke jobs: validates the payload, postpones rate-limited calls, executes the call.
import { type BuiltinToolType, type ToolJobResult, toolJobs } from '@threadwork/shared';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { type ExecuteDeps, executeToolCall } from './execute.js';
import { decideRateLimit, rateLimitMessage, type ToolRateLimiter } from './rate-limit.js';
import { ToolError } from './tool-error.js';
import { loadToolCall, type ToolCall } from './tool-executions.queries.js';

export interface ProcessorDeps extends ExecuteDeps {
  limiter: ToolRateLimiter;
  /** The longest a call may wait, in total, for rate limits before it fails with a rate_limited output. */
  maxRateLimitWaitMs: number;
  now?: () => number;
}

/** Kept in the job's data while it is postponed, so that the total wait is bounded across delays. */
const rateLimitState = z.object({ rateLimitedSince: z.number().int().positive().optional() });

async function admitOrPostpone(
  deps: ProcessorDeps,
  job: Job,
  token: string | undefined,
  call: ToolCall,
  tool: BuiltinToolType,
) {
  const wait = await deps.limiter.reserve(call.ownerId, tool);
  if (!wait) return null;
  const now = (deps.now ?? Date.now)();
  const limitedSince = rateLimitState.parse(job.data).rateLimitedSince ?? now;
  const decision = decideRateLimit({
    limitedSince,
    now,
    waitMs: wait.waitMs,
    maxWaitMs: deps.maxRateLimitWaitMs,
  });
  if (decision.action === 'give_up') {
    return new ToolError(
      'rate_limited',
      rateLimitMessage(tool, wait, decision.waitedMs, deps.maxRateLimitWaitMs),
    );
  }
  await job.updateData({ ...job.data, rateLimitedSince: limitedSince });
  await job.moveToDelayed(decision.until, token);
  deps.log.info(
    { callId: call.callId, tool, waitMs: wait.waitMs, scope: wait.scope },
    'tool call rate limited; delayed',
  );
  throw new DelayedError();
}

export function createToolInvokeProcessor(deps: ProcessorDeps) {
  return async (job: Job, token?: string): Promise<ToolJobResult> => {
    if (job.name !== 'tool.invoke') throw new UnrecoverableError(`Unknown tool job name '${job.name}'`);
    const parsed = toolJobs['tool.invoke'].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`Malformed tool.invoke payload: ${z.prettifyError(parsed.error)}`);
    const call = await loadToolCall(deps.db, parsed.data);
    if (!call) {
      const { runId, stepId, callId } = parsed.data;
      throw new UnrecoverableError(`No tool call ${callId} in step ${stepId} of run ${runId}`);
    }
    const scoped = {
      ...deps,
      log: deps.log.child({ runId: call.runId, callId: call.callId, tool: call.name }),
    };
    return executeToolCall(scoped, call, (loaded, tool) => admitOrPostpone(scoped, job, token, loaded, tool));
  };
}
