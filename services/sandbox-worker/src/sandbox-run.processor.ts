// The BullMQ processor of sandbox.run jobs: validates the payload, postpones rate-limited calls, runs the call.
import { type SandboxJobData, type SandboxJobResult, sandboxJobs } from '@threadwork/shared';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { rateLimitedLogs, type SandboxRateLimiter } from './rate-limit.js';
import { type CallDeps, runSandboxCall } from './run-call.js';

export interface ProcessorDeps extends CallDeps {
  limiter: SandboxRateLimiter;
  now?: () => number;
}

/** Kept in the job's data while it is postponed, so that the total wait is bounded across delays. */
const rateLimitState = z.object({ rateLimitedSince: z.number().int().positive().optional() });

/** Null when the call may run now; a result saying it was not run once it waited as long as it may; else delays. */
async function admitOrPostpone(
  deps: ProcessorDeps,
  job: Job,
  token: string | undefined,
  data: SandboxJobData,
): Promise<SandboxJobResult | null> {
  const waitMs = await deps.limiter.reserve(data.ownerId);
  if (waitMs === null) return null;
  const now = (deps.now ?? Date.now)();
  const since = rateLimitState.parse(job.data).rateLimitedSince ?? now;
  if (now + waitMs - since > deps.config.SANDBOX_RATE_LIMIT_MAX_WAIT_MS) {
    const logs = rateLimitedLogs(now - since, deps.config);
    return {
      callId: data.callId,
      logs,
      isError: true,
      session: 'not_run',
      images: [],
      files: [],
      durationMs: 0,
    };
  }
  await job.updateData({ ...job.data, rateLimitedSince: since });
  await job.moveToDelayed(now + waitMs, token);
  deps.log.info({ callId: data.callId, waitMs }, 'code_interpreter call rate limited; delayed');
  throw new DelayedError();
}

export function createSandboxRunProcessor(deps: ProcessorDeps) {
  return async (job: Job, token?: string): Promise<SandboxJobResult> => {
    if (job.name !== 'sandbox.run') throw new UnrecoverableError(`Unknown sandbox job name '${job.name}'`);
    const parsed = sandboxJobs['sandbox.run'].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`Malformed sandbox.run payload: ${z.prettifyError(parsed.error)}`);
    const refused = await admitOrPostpone(deps, job, token, parsed.data);
    return refused ?? runSandboxCall(deps, parsed.data);
  };
}
