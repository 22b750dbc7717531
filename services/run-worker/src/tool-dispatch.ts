// Fans built-in tool calls out as a BullMQ flow: one child per call on `tools`, the continuation as the parent on `runs`.
import {
  type Queues,
  RUNS_QUEUE,
  runJobId,
  runJobOptions,
  runJobs,
  TOOLS_QUEUE,
  toolJobOptions,
  toolJobs,
} from '@threadwork/shared';

export interface ToolDispatch {
  runId: string;
  stepId: string;
  callIds: string[];
  /** A dispatch again (the first one's jobs were lost) names its parent, and its children after it. */
  parentJobId?: string;
}

/** Dispatches the calls; answers the id of the continuation job, which takes the run once they have all finished. */
export async function dispatchBuiltinTools(queues: Queues, dispatch: ToolDispatch): Promise<string> {
  const { runId, stepId, callIds, parentJobId } = dispatch;
  // Both sides of the flow are parsed by the job catalog's schemas, as every enqueue is.
  const parent = { name: 'run.continue' as const, data: runJobs['run.continue'].parse({ runId, stepId }) };
  const jobId = parentJobId ?? runJobId(parent);
  await queues.flows.add({
    name: parent.name,
    queueName: RUNS_QUEUE,
    data: parent.data,
    opts: { ...runJobOptions, jobId },
    children: callIds.map((callId) => ({
      name: 'tool.invoke',
      queueName: TOOLS_QUEUE,
      data: toolJobs['tool.invoke'].parse({ runId, stepId, callId }),
      // The first dispatch's child is named after its call, so a call is never queued twice.
      opts: {
        ...toolJobOptions,
        jobId: parentJobId ? `${parentJobId}-${callId}` : callId,
        ignoreDependencyOnFailure: true,
      },
    })),
  });
  return jobId;
}
