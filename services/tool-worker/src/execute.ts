// Executes one built-in tool call at most once: settle earlier attempts, refuse what may not run, claim, run, record.
import {
  type BuiltinToolType,
  builtinToolParameters,
  type Db,
  isBuiltinToolType,
  isTerminal,
  type Logger,
  type ToolJobResult,
} from '@threadwork/shared';
import pg from 'pg';
import type { Histogram } from 'prom-client';
import type { z } from 'zod';
import { errorOutput, ToolError } from './tool-error.js';
import {
  claimExecution,
  type Execution,
  findExecution,
  finishExecution,
  markInterrupted,
  type Outcome,
  recordUnexecuted,
  type ToolCall,
} from './tool-executions.queries.js';
import type { ToolPolicies } from './tool-policy.js';
import type { ToolCallContext, ToolRunners } from './tools/registry.js';

export interface ExecuteDeps {
  db: Db;
  runners: ToolRunners;
  policies: ToolPolicies;
  log: Logger;
  /** Seconds each executed call took, by tool and outcome (`ok` or the error code). */
  toolDuration: Histogram<'tool' | 'outcome'>;
}

/** Lets a call run now (null), refuses it (a ToolError the model reads), or throws to postpone the job. */
export type Admit = (call: ToolCall, tool: BuiltinToolType) => Promise<ToolError | null>;

/**
 * The call's arguments as the tool reads them, and `value`, what the audit stores: the JSON value, or the text as the
 * model wrote it when it is not JSON or holds a NUL (U+0000), which Postgres text and jsonb cannot store.
 */
type ParsedArguments =
  | { kind: 'json'; value: unknown }
  | { kind: 'not_json'; value: string }
  | { kind: 'has_nul'; value: string };

/**
 * A NUL in the arguments: a `\u0000` escape whose backslash is not itself escaped. The text comes from the run step's
 * jsonb, which cannot hold a raw NUL.
 */
const nulEscape = /(?<!\\)(?:\\\\)*\\u0000/;

const INTERRUPTED_MESSAGE =
  'An earlier attempt of this call started but never finished (its worker stopped). It is not run again, so that ' +
  'a call never runs twice; call the tool again if the result is still needed.';

function parseArguments(text: string): ParsedArguments {
  if (nulEscape.test(text)) return { kind: 'has_nul', value: text };
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'not_json', value: text };
  }
}

function failure(error: ToolError): Outcome {
  return {
    output: errorOutput(error),
    isError: true,
    code: error.code,
    error: `${error.code}: ${error.message}`,
  };
}

function resultOf(callId: string, outcome: Pick<Outcome, 'output' | 'isError'>): ToolJobResult {
  return { callId, output: outcome.output, isError: outcome.isError };
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`);
  return `Invalid arguments: ${issues.join('; ')}.`;
}

function databaseErrorIn(error: unknown): pg.DatabaseError | null {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    if (current instanceof pg.DatabaseError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function toToolError(error: unknown, log: Logger): ToolError {
  if (error instanceof ToolError) return error;
  const database = databaseErrorIn(error);
  if (database?.code === '57014')
    return new ToolError('timeout', `The statement was cancelled: ${database.message}.`);
  if (database) {
    const extra = [database.detail, database.hint].filter(Boolean).join(' ');
    return new ToolError(
      'sql_error',
      `${database.message}${extra ? ` (${extra})` : ''} [SQLSTATE ${database.code}]`,
    );
  }
  log.error({ err: error }, 'tool failed unexpectedly');
  return new ToolError(
    'internal',
    'The tool failed because of an internal error; the operator can find it in the logs.',
  );
}

/** Runs `work` with an abort signal; rejects with a timeout ToolError when it takes longer than `ms`. */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ToolError('timeout', `The tool did not finish within ${ms} ms.`));
      controller.abort();
    }, ms);
  });
  const running = work(controller.signal);
  // A tool that fails after its timeout has nobody left to tell.
  running.catch(() => {});
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runTool(
  deps: ExecuteDeps,
  call: ToolCall,
  tool: BuiltinToolType,
  args: ParsedArguments,
): Promise<Outcome> {
  try {
    if (args.kind !== 'json') throw new ToolError('invalid_arguments', 'The arguments are not valid JSON.');
    const parsed = builtinToolParameters[tool].safeParse(args.value);
    if (!parsed.success) throw new ToolError('invalid_arguments', describeIssues(parsed.error));
    // parsed.data was validated by the schema of this very tool; TypeScript cannot correlate the two lookups.
    const runner = deps.runners[tool] as (input: unknown, context: ToolCallContext) => Promise<unknown>;
    const value = await withTimeout(deps.policies[tool].timeoutMs, (signal) =>
      runner(parsed.data, { runId: call.runId, callId: call.callId, ownerId: call.ownerId, signal }),
    );
    const output = typeof value === 'string' ? value : JSON.stringify(value);
    return { output, isError: false, code: 'ok', error: null };
  } catch (error) {
    return failure(toToolError(error, deps.log));
  }
}

function storedResult(row: Execution): ToolJobResult {
  const output =
    row.output ?? errorOutput(new ToolError('internal', 'The call finished without a recorded output.'));
  return resultOf(row.callId, { output, isError: row.status === 'failed' });
}

/** A call that already has a row (`known`, or read now): its stored result, or, if an attempt died running it, an interruption. */
async function settleExisting(deps: ExecuteDeps, callId: string, known?: Execution): Promise<ToolJobResult> {
  const row = known ?? (await findExecution(deps.db, callId));
  if (!row) throw new Error(`The tool_executions row of ${callId} disappeared`);
  if (row.status !== 'running') return storedResult(row);
  const outcome = failure(new ToolError('interrupted', INTERRUPTED_MESSAGE));
  const settled = await markInterrupted(deps.db, callId, outcome);
  if (!settled) return storedResult((await findExecution(deps.db, callId)) ?? row);
  deps.log.warn({ startedAt: row.startedAt }, 'tool call interrupted earlier; not executed again');
  return resultOf(callId, outcome);
}

async function refuse(deps: ExecuteDeps, call: ToolCall, args: ParsedArguments, error: ToolError) {
  const outcome = failure(error);
  if (!(await recordUnexecuted(deps.db, call, args.value, outcome))) {
    return settleExisting(deps, call.callId);
  }
  deps.log.info({ code: error.code }, 'tool call refused');
  return resultOf(call.callId, outcome);
}

function refusalBeforeAdmission(
  call: ToolCall,
  tool: BuiltinToolType,
  args: ParsedArguments,
  policies: ToolPolicies,
): ToolError | null {
  if (args.kind === 'has_nul') {
    return new ToolError(
      'invalid_arguments',
      'The arguments contain a NUL character (\\u0000), which the built-in tools cannot take (Postgres text ' +
        'cannot hold it); the call was not executed. Call the tool again without it.',
    );
  }
  if (call.runStatus === 'cancelling' || isTerminal(call.runStatus)) {
    return new ToolError('run_inactive', `The run is ${call.runStatus}; the tool call was not executed.`);
  }
  if (!policies[tool].enabled)
    return new ToolError('disabled', `The tool ${tool} is disabled on this server.`);
  if (call.projectDisabledTools.includes(tool))
    return new ToolError('disabled', `The tool ${tool} is disabled in this project.`);
  return null;
}

/**
 * Executes `call` at most once. A call id that already has a tool_executions row is never run again: a finished
 * row gives its stored result, a row still `running` (its worker died) is settled as interrupted.
 */
export async function executeToolCall(
  deps: ExecuteDeps,
  call: ToolCall,
  admit: Admit,
): Promise<ToolJobResult> {
  if (call.previous) return settleExisting(deps, call.callId, call.previous);
  const args = parseArguments(call.arguments);
  const tool = call.name;
  if (!isBuiltinToolType(tool)) {
    return refuse(
      deps,
      call,
      args,
      new ToolError('refused', `'${tool}' is not a built-in tool of this server.`),
    );
  }
  const refusal = refusalBeforeAdmission(call, tool, args, deps.policies) ?? (await admit(call, tool));
  if (refusal) return refuse(deps, call, args, refusal);
  if (!(await claimExecution(deps.db, call, args.value))) {
    return settleExisting(deps, call.callId);
  }
  const started = performance.now();
  const outcome = await runTool(deps, call, tool, args);
  const durationMs = Math.round(performance.now() - started);
  await finishExecution(deps.db, call.callId, outcome, durationMs);
  deps.toolDuration.observe({ tool, outcome: outcome.code }, durationMs / 1000);
  deps.log.info({ durationMs, isError: outcome.isError }, 'tool call finished');
  return resultOf(call.callId, outcome);
}
