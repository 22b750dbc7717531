// The BullMQ processor of sandbox.run jobs: validates the payload, then runs the call.
import { type SandboxJobResult, sandboxJobs } from '@threadwork/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { type CallDeps, runSandboxCall } from './run-call.js';

export function createSandboxRunProcessor(deps: CallDeps) {
  return async (job: Job): Promise<SandboxJobResult> => {
    if (job.name !== 'sandbox.run') throw new UnrecoverableError(`Unknown sandbox job name '${job.name}'`);
    const parsed = sandboxJobs['sandbox.run'].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`Malformed sandbox.run payload: ${z.prettifyError(parsed.error)}`);
    return runSandboxCall(deps, parsed.data);
  };
}
