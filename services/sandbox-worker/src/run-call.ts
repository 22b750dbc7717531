// Runs one code_interpreter call at most once, in the thread's session, and records where that session lives.
import {
  findSandboxSession,
  type Logger,
  type RedisConnection,
  type SandboxConfig,
  type SandboxJobData,
  type SandboxJobResult,
  type SandboxSession,
  sandboxFile,
  sandboxSessionKey,
} from '@threadwork/shared';
import { callLogs } from './call-logs.js';
import { type CallOutcome, SessionStartError } from './python-session.js';
import type { SessionPool } from './session-pool.js';

export interface CallDeps {
  pool: SessionPool;
  redis: RedisConnection;
  /** The queue prefix, under which the session records and call claims are kept. */
  prefix: string;
  workerId: string;
  config: SandboxConfig;
  log: Logger;
}

const INTERRUPTED =
  'An earlier attempt of this call started but never finished (its sandbox worker stopped). It is not run again, ' +
  'so that code never runs twice; run it again if the result is still needed.';

/** How long a claim is kept: longer than any redelivery of the call's job. */
const CLAIM_SECONDS = 24 * 3600;

function callClaimKey(prefix: string, callId: string): string {
  return `${prefix}:sandbox-call:${callId}`;
}

async function recordSession(deps: CallDeps, threadId: string, startedAt: number): Promise<void> {
  const record = JSON.stringify({ workerId: deps.workerId, startedAt });
  // Kept a little past the idle time, so that a session that ends idle is forgotten rather than called lost.
  const ttlMs = deps.config.SANDBOX_SESSION_IDLE_MS + 60_000;
  await deps.redis.set(sandboxSessionKey(deps.prefix, threadId), record, 'PX', ttlMs);
}

export async function runSandboxCall(deps: CallDeps, job: SandboxJobData): Promise<SandboxJobResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const claimed = await deps.redis.set(
    callClaimKey(deps.prefix, job.callId),
    deps.workerId,
    'EX',
    CLAIM_SECONDS,
    'NX',
  );
  if (claimed !== 'OK') {
    deps.log.warn({ callId: job.callId }, 'call already claimed by an earlier attempt; not run again');
    const none = { images: [], files: [], durationMs: elapsed() };
    return { callId: job.callId, logs: INTERRUPTED, isError: true, session: 'not_run', ...none };
  }
  const previous = await findSandboxSession(deps.redis, deps.prefix, job.threadId);
  try {
    return await runInSession(deps, job, previous, elapsed);
  } catch (error) {
    if (!(error instanceof SessionStartError)) throw error;
    deps.log.error({ err: error, callId: job.callId }, 'sandbox session could not start');
    const logs = `[The sandbox could not start a Python session (${error.message}); the code did not run.]`;
    return {
      callId: job.callId,
      logs,
      isError: true,
      session: 'not_run',
      images: [],
      files: [],
      durationMs: elapsed(),
    };
  }
}

function runInSession(
  deps: CallDeps,
  job: SandboxJobData,
  previous: SandboxSession | null,
  elapsed: () => number,
): Promise<SandboxJobResult> {
  return deps.pool.use(job.threadId, async (session, isNew) => {
    const state = !isNew ? 'continued' : previous ? 'restarted' : 'new';
    await recordSession(deps, job.threadId, isNew || !previous ? Date.now() : previous.startedAt);
    const outcome = await session.run(job.code, job.files, deps.config.SANDBOX_CALL_TIMEOUT_MS);
    if (outcome.kind !== 'answered') await deps.pool.end(job.threadId);
    const { logs, isError } = callLogs(state, outcome, {
      callTimeoutMs: deps.config.SANDBOX_CALL_TIMEOUT_MS,
      maxOutputBytes: deps.config.SANDBOX_MAX_OUTPUT_BYTES,
      maxReturnBytes: deps.config.SANDBOX_MAX_RETURN_BYTES,
    });
    deps.log.info(
      { callId: job.callId, threadId: job.threadId, session: state, outcome: outcome.kind, isError },
      'sandbox call finished',
    );
    return {
      callId: job.callId,
      logs,
      isError,
      session: state,
      ...handedBack(outcome),
      durationMs: elapsed(),
    };
  });
}

/** The figures and files of an answered call; a file whose name the contract refuses is left out. */
function handedBack(outcome: CallOutcome): Pick<SandboxJobResult, 'images' | 'files'> {
  if (outcome.kind !== 'answered') return { images: [], files: [] };
  const files = outcome.answer.files.filter((file) => sandboxFile.safeParse(file).success);
  return { images: outcome.answer.images, files };
}
