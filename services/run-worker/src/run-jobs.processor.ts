// The `runs` queue processor: validates each job and hands it to the domain function that does it.
import { type RunJobData, type RunJobName, runJobs } from '@threadwork/shared';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { sandboxResultsOf } from './code-outputs.js';
import { continueRun, executeRun, expireRun, type RunWorkerDeps, type StillHeld } from './execute-run.js';
import { sweepRuns } from './recovery.js';

function parse<N extends RunJobName>(name: N, data: unknown): RunJobData<N> {
  const result = runJobs[name].safeParse(data);
  if (!result.success) throw new UnrecoverableError(`Malformed ${name} job: ${result.error.message}`);
  return result.data as RunJobData<N>;
}

function idOf(job: Job): string {
  if (!job.id) throw new UnrecoverableError(`A ${job.name} job without an id`);
  return job.id;
}

/** How soon a continuation that found its run still held looks again (its holder lets go within milliseconds). */
const HELD_RETRY_MS = 50;

/** Puts the job back for a moment; it keeps its children's results and its attempts. */
async function retryWhileHeld(job: Job, token: string | undefined, held: StillHeld): Promise<never> {
  const now = Date.now();
  await job.moveToDelayed(Math.min(now + HELD_RETRY_MS, held.heldUntil.getTime() + 1), token);
  throw new DelayedError();
}

export function processRunJob(deps: RunWorkerDeps) {
  return async (job: Job, token?: string): Promise<unknown> => {
    switch (job.name as RunJobName) {
      case 'run.execute':
        return executeRun(deps, parse('run.execute', job.data).runId, idOf(job));
      case 'run.resume':
        return executeRun(deps, parse('run.resume', job.data).runId, idOf(job));
      case 'run.continue': {
        const data = parse('run.continue', job.data);
        const sandboxResults = sandboxResultsOf(await job.getChildrenValues());
        const held = await continueRun(deps, data.runId, data.stepId, sandboxResults);
        return held ? retryWhileHeld(job, token, held) : undefined;
      }
      case 'run.expire':
        return expireRun(deps, parse('run.expire', job.data).runId);
      case 'run.sweep':
        parse('run.sweep', job.data);
        return sweepRuns(deps);
      default:
        throw new UnrecoverableError(`Unknown job name ${job.name}`);
    }
  };
}
