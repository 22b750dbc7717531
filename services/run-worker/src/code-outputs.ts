// What the sandbox answered for a step's code_interpreter calls: audited as executions, and streamed to clients as
// the calls' outputs (a step delta each), as OpenAI streamed them.
import {
  CODE_INTERPRETER,
  codeInterpreterInput,
  type NewRunEvent,
  type SandboxExecution,
  type SandboxJobResult,
  type StepToolCall,
  sandboxJobResult,
} from '@threadwork/shared';

/** The sandbox results among a continuation's children values (the tool worker's results are read from Postgres). */
export function sandboxResultsOf(childrenValues: Record<string, unknown>): SandboxJobResult[] {
  return Object.values(childrenValues).flatMap((value) => {
    const parsed = sandboxJobResult.safeParse(value);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The executions to audit: the step's code_interpreter calls that the sandbox answered. */
export function sandboxExecutions(calls: StepToolCall[], results: SandboxJobResult[]): SandboxExecution[] {
  const byCall = new Map(results.map((result) => [result.callId, result]));
  return calls.flatMap((call) => {
    const result = byCall.get(call.id);
    if (call.function.name !== CODE_INTERPRETER || !result) return [];
    const { logs, isError, durationMs } = result;
    return [
      { callId: call.id, code: codeInterpreterInput(call.function.arguments), logs, isError, durationMs },
    ];
  });
}

/** A step delta per answered code_interpreter call, carrying its outputs. */
export function codeOutputEvents(stepId: string, calls: StepToolCall[]): NewRunEvent[] {
  return calls.flatMap((call, index): NewRunEvent[] => {
    if (call.function.name !== CODE_INTERPRETER || call.function.output === null) return [];
    const outputs = [
      { index: 0, type: 'logs' as const, logs: call.function.output },
      ...(call.images ?? []).map((fileId, at) => ({
        index: at + 1,
        type: 'image' as const,
        image: { file_id: fileId },
      })),
    ];
    return [
      {
        event: 'thread.run.step.delta',
        data: {
          id: stepId,
          object: 'thread.run.step.delta',
          delta: {
            step_details: {
              type: 'tool_calls',
              tool_calls: [{ index, type: 'code_interpreter', code_interpreter: { outputs } }],
            },
          },
        },
      },
    ];
  });
}
