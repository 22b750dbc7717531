// The `runs` queue processor: validates each job and hands it to the run loop.

import { type RunJobData, type RunJobName, runJobs, toolJobResult } from '@threadwork/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { executeRun, expireRun, type RunLoopDeps } from './run-loop.js';
import { continueAfterTools } from './tool-results.js';

function parse<N extends RunJobName>(name: N, data: unknown): RunJobData<N> {
  const result = runJobs[name].safeParse(data);
  if (!result.success) throw new UnrecoverableError(`Malformed ${name} job: ${result.error.message}`);
  return result.data as RunJobData<N>;
}

export function processRunJob(deps: RunLoopDeps) {
  return async (job: Job): Promise<void> => {
    const delivery = { isRedelivery: job.attemptsStarted > 1 };
    switch (job.name as RunJobName) {
      case 'run.execute':
        return executeRun(deps, parse('run.execute', job.data).runId, delivery);
      case 'run.resume':
        return executeRun(deps, parse('run.resume', job.data).runId, delivery);
      case 'run.continue': {
        const data = parse('run.continue', job.data);
        const outputs = job.getChildrenValues().then((values) =>
          Object.values(values).flatMap((value) => {
            const parsed = toolJobResult.safeParse(value);
            return parsed.success ? [parsed.data] : [];
          }),
        );
        return continueAfterTools(deps, data.runId, data.stepId, outputs, delivery);
      }
      case 'run.expire':
        return expireRun(deps, parse('run.expire', job.data).runId);
      default:
        throw new UnrecoverableError(`Unknown job name ${job.name}`);
    }
  };
}
