// code_interpreter calls that no sandbox worker would take (none runs): answered at once with an error the model
// reads, rather than left in the queue until their run expires.
import {
  codeInterpreterInput,
  type Db,
  isAnySandboxWorkerAlive,
  isCodeInterpreterCall,
  type Queues,
  type RunRow,
  recordSandboxExecutions,
  type StepToolCall,
} from '@threadwork/shared';

export const NO_SANDBOX_WORKER =
  '[code_interpreter is not available: no sandbox worker runs on this server, so the code did not run.]';

interface UnservedDeps {
  db: Db;
  queues: Queues;
  config: { QUEUE_PREFIX: string };
}

/**
 * The calls to dispatch: all of them while a sandbox worker lives; else those that are not code_interpreter calls,
 * the code_interpreter ones being recorded as not run (the continuation reads them as it reads every result).
 */
export async function withoutUnservedCodeCalls(
  deps: UnservedDeps,
  run: RunRow,
  calls: StepToolCall[],
  now: Date,
): Promise<StepToolCall[]> {
  const code = calls.filter((call) => isCodeInterpreterCall(run, call.function.name));
  if (code.length === 0) return calls;
  if (await isAnySandboxWorkerAlive(await deps.queues.runs.client, deps.config.QUEUE_PREFIX)) return calls;
  const unserved = code.map((call) => ({
    callId: call.id,
    code: codeInterpreterInput(call.function.arguments),
    logs: NO_SANDBOX_WORKER,
    isError: true,
    durationMs: 0,
  }));
  await recordSandboxExecutions(deps.db, run, unserved, now);
  return calls.filter((call) => !code.includes(call));
}
