// Fans built-in tool calls out as a BullMQ flow: one child per call on `tools`, the continuation as the parent on `runs`.
import {
  type Queues,
  RUNS_QUEUE,
  runJobId,
  runJobOptions,
  TOOLS_QUEUE,
  toolJobOptions,
} from '@threadwork/shared';

export async function dispatchBuiltinTools(
  queues: Queues,
  runId: string,
  stepId: string,
  callIds: string[],
): Promise<void> {
  const parent = { name: 'run.continue' as const, data: { runId, stepId } };
  await queues.flows.add({
    name: parent.name,
    queueName: RUNS_QUEUE,
    data: parent.data,
    opts: { ...runJobOptions, jobId: runJobId(parent) },
    children: callIds.map((callId) => ({
      name: 'tool.invoke',
      queueName: TOOLS_QUEUE,
      data: { runId, stepId, callId },
      opts: { ...toolJobOptions, jobId: callId, ignoreDependencyOnFailure: true },
    })),
  });
}
