// Settling what a fault left behind: a run whose worker stopped, a run whose job is gone, a run past its expiry.
// The sweeper (one `run.sweep` job at a time, from a BullMQ job scheduler) looks every SWEEP_INTERVAL_MS.
import {
  type Config,
  type Db,
  type EventBus,
  endRunEarly,
  enqueueRun,
  findOpenAnswer,
  findOpenToolStep,
  findOrphans,
  findToolResults,
  isBuiltinCall,
  type LastError,
  type Logger,
  type Metrics,
  type Queues,
  type RunRow,
  type RunStepRow,
  releaseNextRun,
  requeueRun,
  runStatusEvent,
  setRunJob,
  toRunObject,
} from '@threadwork/shared';
import { filesForCode } from './code-files.js';
import { dispatchBuiltinTools } from './tool-dispatch.js';
import { withoutUnservedCodeCalls } from './unserved-code-calls.js';

export interface RecoveryDeps {
  db: Db;
  events: EventBus;
  queues: Queues;
  log: Logger;
  metrics: Metrics;
  config: Pick<Config, 'SWEEP_QUEUED_GRACE_MS' | 'QUEUE_PREFIX'>;
  now?: () => Date;
}

/** What the sweeper did to one run. */
export type SweepAction =
  | 'expired'
  | 'cancelled'
  | 'requeued'
  | 'failed_keeping_text'
  | 'tools_redispatched'
  | 'continued'
  | 'released'
  | 'none';

const WORKER_LOST: LastError = {
  code: 'server_error',
  message: 'The worker running this run stopped before it finished.',
};

const clock = (deps: Pick<RecoveryDeps, 'now'>) => deps.now?.() ?? new Date();

/** Jobs in these states will still take their run. */
const liveJobStates = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

async function isJobLive(queues: Queues, jobId: string | null): Promise<boolean> {
  if (!jobId) return false;
  return liveJobStates.has(await queues.runs.getJobState(jobId));
}

/** A fresh id for a job the sweeper adds again (the old id may still name a finished job). */
function againId(runId: string, what: string, now: Date): string {
  return `${runId}-${what}-${now.getTime()}`;
}

/** Whether a tool step's calls were recorded: a step whose calls were still streaming when its worker stopped has none. */
function hasRecordedCalls(step: RunStepRow): boolean {
  return step.stepDetails.type === 'tool_calls' && step.stepDetails.tool_calls.length > 0;
}

/**
 * An in_progress run nobody holds any more: its recorded tool calls go on; a run whose clients were sent output
 * (an answer's text, tool calls still streaming) fails, keeping the text they received; a run that streamed
 * nothing starts over.
 */
export async function recoverAbandonedRun(deps: RecoveryDeps, run: RunRow): Promise<SweepAction> {
  const toolStep = await findOpenToolStep(deps.db, run.id);
  if (toolStep && hasRecordedCalls(toolStep)) return resumeToolStep(deps, run, toolStep);
  if (toolStep || (await findOpenAnswer(deps.db, run.id))) {
    // The ending keeps the text its clients received, from the run's event log.
    const ended = await endRunEarly(deps, run.id, { status: 'failed', error: WORKER_LOST }, ['in_progress'], {
      onlyIfUnheld: true,
    });
    if (!ended) return 'none';
    deps.log.warn({ runId: run.id }, 'run abandoned mid-answer or mid-call: failed, streamed text kept');
    return 'failed_keeping_text';
  }
  return requeue(deps, run);
}

async function requeue(deps: RecoveryDeps, run: RunRow): Promise<SweepAction> {
  const now = clock(deps);
  const jobId = againId(run.id, 'requeued', now);
  const seqFloor = await deps.events.lastSeq(run.id).catch(() => 0);
  const queued = await requeueRun(deps.db, run.id, jobId, now, seqFloor);
  if (!queued) return 'none';
  await deps.events.append(queued, queued.eventSeq, [runStatusEvent(toRunObject(queued))]);
  await enqueueRun(deps.queues, { name: 'run.execute', data: { runId: run.id } }, { jobId });
  deps.log.warn({ runId: run.id }, 'run abandoned before it streamed anything: queued again');
  return 'requeued';
}

/**
 * A run whose built-in tools were dispatched (or were about to be) and whose continuation is gone: continue it
 * when every call has its recorded result, else dispatch the calls again (a call that ran is never run twice: its
 * execution record answers).
 */
async function resumeToolStep(deps: RecoveryDeps, run: RunRow, step: RunStepRow): Promise<SweepAction> {
  if (await isJobLive(deps.queues, run.jobId)) return 'none';
  if (step.stepDetails.type !== 'tool_calls') return 'none';
  // Client functions wait for the client; the continuation moves the run to requires_action for them.
  const pending = step.stepDetails.tool_calls.filter(
    (call) => call.function.output === null && isBuiltinCall(run, call.function.name),
  );
  const results = await findToolResults(
    deps.db,
    pending.map((call) => call.id),
  );
  const unrun = pending.filter((call) => !results.has(call.id));
  const now = clock(deps);
  if (unrun.length === 0) {
    const jobId = againId(run.id, 'continue', now);
    await setRunJob(deps.db, run.id, jobId);
    await enqueueRun(
      deps.queues,
      { name: 'run.continue', data: { runId: run.id, stepId: step.id } },
      { jobId },
    );
    return 'continued';
  }
  const jobId = againId(run.id, 'tools', now);
  await setRunJob(deps.db, run.id, jobId);
  const served = await withoutUnservedCodeCalls(deps, run, unrun, now);
  await dispatchBuiltinTools(deps.queues, {
    run,
    stepId: step.id,
    calls: served,
    queuePrefix: deps.config.QUEUE_PREFIX,
    files: await filesForCode(deps.db, run, served),
    parentJobId: jobId,
  });
  return 'tools_redispatched';
}

/** One pass of the sweeper; answers how many runs it settled, by what it did. */
export async function sweepRuns(deps: RecoveryDeps): Promise<Partial<Record<SweepAction, number>>> {
  const now = clock(deps);
  const orphans = await findOrphans(deps.db, now, {
    queuedBefore: new Date(now.getTime() - deps.config.SWEEP_QUEUED_GRACE_MS),
    limit: 500,
  });
  const done: Partial<Record<SweepAction, number>> = {};
  const note = (action: SweepAction) => {
    if (action === 'none') return;
    done[action] = (done[action] ?? 0) + 1;
    deps.metrics.sweeperActions.inc({ action });
  };
  for (const run of orphans.expired) note(await expire(deps, run));
  for (const run of orphans.queued) note(await enqueueAgainIfJobless(deps, run));
  for (const run of orphans.unheld) note(await settleUnheld(deps, run));
  for (const threadId of new Set(orphans.stalled.map((run) => run.threadId))) {
    note(await releaseStalled(deps, threadId));
  }
  return done;
}

/** A run waiting behind a run that ended (its ender stopped before releasing it) is moved on, or released. */
async function releaseStalled(deps: RecoveryDeps, threadId: string): Promise<SweepAction> {
  const released = await releaseNextRun(deps, threadId);
  if (!released) return 'none';
  deps.log.warn(
    { runId: released.id, threadId },
    'waiting run was not released when the run before it ended',
  );
  return 'released';
}

async function expire(deps: RecoveryDeps, run: RunRow): Promise<SweepAction> {
  const ended = await endRunEarly(deps, run.id, { status: 'expired' }, [run.status]);
  if (!ended) return 'none';
  return 'expired';
}

/**
 * A queued run whose job is gone (a Redis flush, a job that failed all its attempts, an actor that queued it again
 * and stopped before enqueueing it) is enqueued again, after its queued state is announced if that actor stopped
 * before announcing it.
 */
async function enqueueAgainIfJobless(deps: RecoveryDeps, run: RunRow): Promise<SweepAction> {
  if (await isJobLive(deps.queues, run.jobId)) return 'none';
  await announceUnpublishedRequeue(deps, run);
  const jobId = againId(run.id, 'queued', clock(deps));
  await setRunJob(deps.db, run.id, jobId);
  await enqueueRun(deps.queues, { name: 'run.execute', data: { runId: run.id } }, { jobId });
  deps.log.warn({ runId: run.id, lostJob: run.jobId }, 'queued run had no job: enqueued again');
  return 'requeued';
}

/**
 * A run queued again stores the seq of its `thread.run.queued` and then appends it. When the log stops one seq short
 * of the stored seq, the actor stopped in between: no client has that seq, and the run's next holder numbers its
 * events after it, so its streams would see a gap. The stored state is announced at that seq. (A log that is gone,
 * after a Redis flush, is left: its streams were told their events were lost.)
 */
async function announceUnpublishedRequeue(deps: RecoveryDeps, run: RunRow): Promise<void> {
  const isMissing = async () => (await deps.events.lastSeq(run.id)) === run.eventSeq - 1;
  if (run.eventSeq < 2 || !(await isMissing())) return;
  const announced = deps.events.append(run, run.eventSeq, [runStatusEvent(toRunObject(run))]);
  // The actor may have been slow, not stopped: its own append landing first refuses this one.
  await announced.catch(async (error: unknown) => {
    if (await isMissing()) throw error;
  });
  deps.log.warn({ runId: run.id, seq: run.eventSeq }, 'queued run was never announced: announced now');
}

async function settleUnheld(deps: RecoveryDeps, run: RunRow): Promise<SweepAction> {
  if (run.status === 'cancelling') {
    const ended = await endRunEarly(deps, run.id, { status: 'cancelled' }, ['cancelling'], {
      onlyIfUnheld: true,
    });
    if (!ended) return 'none';
    return 'cancelled';
  }
  return recoverAbandonedRun(deps, run);
}
