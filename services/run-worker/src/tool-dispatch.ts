// Fans built-in tool calls out as a BullMQ flow: one child per call on `tools` (code_interpreter calls on the sandbox
// queue that holds the thread's session), the continuation as the parent on `runs`.
import {
  codeInterpreterInput,
  isCodeInterpreterCall,
  type Queues,
  RUNS_QUEUE,
  type RunRow,
  runJobId,
  runJobOptions,
  runJobs,
  type SandboxFile,
  type StepToolCall,
  sandboxJobOptions,
  sandboxJobs,
  sandboxQueueFor,
  TOOLS_QUEUE,
  toolJobOptions,
  toolJobs,
} from '@threadwork/shared';
import type { FlowChildJob } from 'bullmq';

export interface ToolDispatch {
  run: Pick<RunRow, 'id' | 'threadId' | 'ownerId' | 'tools'>;
  stepId: string;
  calls: StepToolCall[];
  /** The queue prefix (QUEUE_PREFIX), under which the sandbox records its sessions. */
  queuePrefix: string;
  /** The files code_interpreter calls find in /mnt/data. */
  files: SandboxFile[];
  /** A dispatch again (the first one's jobs were lost) names its parent, and its children after it. */
  parentJobId?: string;
}

async function childOf(queues: Queues, dispatch: ToolDispatch, call: StepToolCall): Promise<FlowChildJob> {
  const { run, stepId, parentJobId } = dispatch;
  // The first dispatch's child is named after its call, so a call is never queued twice.
  const jobId = parentJobId ? `${parentJobId}-${call.id}` : call.id;
  if (!isCodeInterpreterCall(run, call.function.name)) {
    return {
      name: 'tool.invoke',
      queueName: TOOLS_QUEUE,
      data: toolJobs['tool.invoke'].parse({ runId: run.id, stepId, callId: call.id }),
      opts: { ...toolJobOptions, jobId, ignoreDependencyOnFailure: true },
    };
  }
  const client = await queues.runs.client;
  return {
    name: 'sandbox.run',
    queueName: await sandboxQueueFor(client, dispatch.queuePrefix, run.threadId),
    data: sandboxJobs['sandbox.run'].parse({
      callId: call.id,
      threadId: run.threadId,
      ownerId: run.ownerId,
      code: codeInterpreterInput(call.function.arguments),
      files: dispatch.files,
    }),
    opts: { ...sandboxJobOptions, jobId, ignoreDependencyOnFailure: true },
  };
}

/** Dispatches the calls; answers the id of the continuation job, which takes the run once they have all finished. */
export async function dispatchBuiltinTools(queues: Queues, dispatch: ToolDispatch): Promise<string> {
  const { run, stepId, parentJobId } = dispatch;
  // Both sides of the flow are parsed by the job catalog's schemas, as every enqueue is.
  const parent = {
    name: 'run.continue' as const,
    data: runJobs['run.continue'].parse({ runId: run.id, stepId }),
  };
  const jobId = parentJobId ?? runJobId(parent);
  const children = await Promise.all(dispatch.calls.map((call) => childOf(queues, dispatch, call)));
  await queues.flows.add({
    name: parent.name,
    queueName: RUNS_QUEUE,
    data: parent.data,
    opts: { ...runJobOptions, jobId },
    children,
  });
  return jobId;
}
