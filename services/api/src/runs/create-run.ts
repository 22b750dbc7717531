// Creating a run: resolve the effective settings, insert it queued (one active run per thread), announce, enqueue.
// A run change committed here (or by submit_tool_outputs) is then announced and enqueued by `announceAndEnqueue`.
import {
  ApiError,
  type AssistantRow,
  enqueueRun,
  insertRun,
  type MultitaskStrategy,
  type NewRunEvent,
  newId,
  notFound,
  type RunInsert,
  type RunJob,
  type RunRow,
  releaseNextRun,
  type ThreadRow,
  toRunObject,
  toThreadObject,
  transitionRun,
} from '@threadwork/shared';
import { type Principal, threadOwnerOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { refuseBeyondActiveRuns } from '../end-user-limits.js';
import { findAssistantSnapshot } from '../repositories/assistants.js';
import { activeRunId, ownedThread } from '../repositories/threads.js';
import type { CreateMessageInput } from '../schemas/common.js';
import type { RunSettingsInput } from '../schemas/runs.js';
import type { CreateThreadInput } from '../schemas/threads.js';
import { checkModel } from '../services/assistants.js';
import { newUserMessage } from '../services/messages.js';
import { initialMessages, newThreadRow, withStoredToolResources } from '../services/threads.js';
import type { AssistantSnapshot } from './assistant-snapshots.js';
import { cancelSuperseded } from './cancel-run.js';

/** The SDK retries 5xx without an idempotency key; once a run is committed a retry would duplicate work. */
export const NO_RETRY = { 'x-should-retry': 'false' } as const;

/**
 * Appends the events (the last ones up to the run's stored seq), then enqueues the job; answers the seq of the first
 * event (where a stream of the change starts). The job goes after the append (`appendThen`): a worker that took the
 * job first would number its events ahead of them. Both wait for `listening` (a stream's subscription) when given.
 * A run that waits its turn has no job yet (`job` null). A run that cannot be announced or enqueued is failed, so it
 * never sits queued with nobody to run it.
 */
export async function announceAndEnqueue(
  deps: AppDeps,
  run: RunRow,
  events: NewRunEvent[],
  job: RunJob | null,
  listening?: Promise<void>,
): Promise<number> {
  try {
    await listening;
    const firstSeq = run.eventSeq - events.length + 1;
    if (job) {
      await deps.events.appendThen(run, firstSeq, events, () =>
        enqueueRun(deps.queues, job, run.jobId ? { jobId: run.jobId } : {}),
      );
    } else {
      await deps.events.append(run, firstSeq, events);
    }
    return firstSeq;
  } catch (error) {
    deps.log.error({ err: error, runId: run.id }, 'could not enqueue run');
    await transitionRun(deps.db, run.id, 'failed', {
      failedAt: new Date(),
      expiresAt: null,
      lastError: { code: 'server_error', message: 'The run could not be queued.' },
    })
      .then(() => releaseNextRun(deps, run.threadId))
      .catch((failError: unknown) => deps.log.error({ err: failError, runId: run.id }, 'could not fail run'));
    throw new ApiError(503, 'The run could not be queued; it was marked failed.', {
      type: 'server_error',
      code: 'server_error',
      headers: NO_RETRY,
    });
  }
}

export interface CreatedRun {
  run: RunRow;
  /** The seq of the run's first event, where a stream of this run starts. */
  firstSeq: number;
}

function activeRunError(threadId: string, runId: string): ApiError {
  return new ApiError(400, `Thread ${threadId} already has an active run ${runId}.`);
}

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
}

/** The Postgres error behind a failed statement (drizzle wraps it as the cause). */
function pgErrorOf(error: unknown): PgError {
  return (error as { cause?: PgError }).cause ?? (error as PgError);
}

function isActiveRunConflict(error: unknown): boolean {
  const pgError = pgErrorOf(error);
  return pgError.code === '23505' && pgError.constraint === 'runs_one_active_per_thread_idx';
}

function effectiveInstructions(input: RunSettingsInput, assistant: AssistantRow): string {
  const base = input.instructions ?? assistant.instructions ?? '';
  const extra = input.additional_instructions;
  if (!extra) return base;
  return base.length > 0 ? `${base}\n\n${extra}` : extra;
}

/**
 * The assistant a run is made from. With a version (a snapshot, possibly remembered from an earlier run), the run's
 * statement checks it; without one the row was read for this request.
 */
export type RunAssistant = AssistantSnapshot | { row: AssistantRow; version: null };

/**
 * The assistant as it is now (and remembered for later runs): for a caller that writes something before the run's
 * statement checks the assistant, such as a new chat thread.
 */
export async function readAssistantForRun(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<AssistantSnapshot> {
  const snapshot = await findAssistantSnapshot(deps.db, principal, assistantId);
  if (!snapshot) {
    const error = notFound('assistant', assistantId);
    throw new ApiError(404, error.message, { param: 'assistant_id' });
  }
  deps.assistants.remember(snapshot);
  return snapshot;
}

/** The assistant as remembered, else as read now: for a run whose statement is its first write. */
function loadAssistantForRun(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<AssistantSnapshot> {
  const remembered = deps.assistants.visible(principal, assistantId);
  return remembered ? Promise.resolve(remembered) : readAssistantForRun(deps, principal, assistantId);
}

/** A run checks its assistant's model routes before anything is written. */
function checkRunModel(deps: AppDeps, input: Pick<RunSettingsInput, 'model'>, assistant: RunAssistant): void {
  checkModel(deps, input.model ?? assistant.row.model);
}

/** A run's assistant changed since it was read: how many times the run is made again from a fresh read. */
const ASSISTANT_REREADS = 3;

/** A written run and the runs it supersedes (interrupt, rollback), last first. */
type WrittenRun = Extract<RunInsert, { run: RunRow }>;

/**
 * Writes a run made from its assistant; when the assistant's row changed since it was read, forgets it, reads it
 * again and makes the run again. A thread that is missing (or someone else's) answers `onThreadMissing`'s error.
 */
async function writeFromAssistant(
  deps: AppDeps,
  principal: Principal,
  input: RunSettingsInput,
  first: RunAssistant | undefined,
  write: (assistant: RunAssistant) => Promise<RunInsert>,
  onThreadMissing: () => Promise<never> = () => Promise.reject(new Error('thread missing')),
): Promise<WrittenRun> {
  let assistant = first;
  for (let attempt = 1; ; attempt += 1) {
    assistant ??= await loadAssistantForRun(deps, principal, input.assistant_id);
    checkRunModel(deps, input, assistant);
    const written = await write(assistant);
    if ('run' in written) return written;
    if (written.refused === 'thread_not_found') return onThreadMissing();
    if (attempt === ASSISTANT_REREADS) throw new Error(`assistant ${input.assistant_id} kept changing`);
    deps.assistants.forget(input.assistant_id);
    assistant = undefined;
  }
}

/** The run a request asks for, as it will be stored: the request's settings over the assistant's, then defaults. */
function newRunRow(
  deps: AppDeps,
  thread: Pick<ThreadRow, 'id' | 'ownerId'>,
  assistant: AssistantRow,
  input: RunSettingsInput,
  now: Date,
  id = newId('run'),
): RunRow {
  return {
    id,
    threadId: thread.id,
    ownerId: thread.ownerId,
    assistantId: assistant.id,
    status: 'queued',
    requiredAction: null,
    lastError: null,
    incompleteDetails: null,
    model: input.model ?? assistant.model,
    instructions: effectiveInstructions(input, assistant),
    tools: input.tools ?? assistant.tools,
    metadata: input.metadata ?? {},
    usage: null,
    temperature: input.temperature ?? assistant.temperature ?? 1,
    topP: input.top_p ?? assistant.topP ?? 1,
    maxPromptTokens: input.max_prompt_tokens ?? null,
    maxCompletionTokens: input.max_completion_tokens ?? null,
    truncationStrategy: {
      type: input.truncation_strategy?.type ?? 'auto',
      last_messages: input.truncation_strategy?.last_messages ?? null,
    },
    toolChoice: input.tool_choice ?? 'auto',
    parallelToolCalls: input.parallel_tool_calls ?? true,
    responseFormat: input.response_format ?? assistant.responseFormat ?? 'auto',
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.config.RUN_EXPIRY_SECONDS * 1000),
    startedAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: null,
    eventSeq: 0,
    jobId: id,
    leaseOwner: null,
    leaseExpiresAt: null,
    // Set by the write, under the thread's lock.
    waitsFor: null,
    rollsBack: null,
    historyUntil: null,
  };
}

function announcement(run: RunRow, thread?: ThreadRow): NewRunEvent[] {
  const data = toRunObject(run);
  return [
    ...(thread ? [{ event: 'thread.created' as const, data: toThreadObject(thread) }] : []),
    { event: 'thread.run.created', data },
    { event: 'thread.run.queued', data },
  ];
}

/** The run as stored with the seq of the announcement its creation publishes. */
function withEventSeq(run: RunRow, thread: ThreadRow | undefined): RunRow {
  return { ...run, eventSeq: announcement(run, thread).length };
}

/** How a new run is made known: its id, when the caller chose it, and a stream's subscription to wait for. */
export interface NewRunOptions {
  runId?: string;
  /** Resolves once a stream of the run listens (`RunFeed.holdNew`): its events are appended only then. */
  listening?: Promise<void>;
}

/**
 * After the run is written (persisted first, published after): announces it, and enqueues it unless it waits its
 * turn. The runs it supersedes are then cancelled (each ending releases what waits behind it); a run that waits is
 * released at once if the runs before it ended while it was being written.
 */
async function announceCreated(
  deps: AppDeps,
  { run, supersedes }: WrittenRun,
  thread: ThreadRow | undefined,
  options: NewRunOptions,
): Promise<CreatedRun> {
  const job = run.waitsFor ? null : ({ name: 'run.execute', data: { runId: run.id } } as const);
  const firstSeq = await announceAndEnqueue(deps, run, announcement(run, thread), job, options.listening);
  if (!run.waitsFor) return { run, firstSeq };
  // The run is committed and announced: a failure from here on is logged, and the sweeper releases the run.
  await cancelSuperseded(deps, supersedes)
    .then(() => releaseNextRun(deps, run.threadId))
    .catch((error: unknown) => deps.log.error({ err: error, runId: run.id }, 'could not move the thread on'));
  return { run, firstSeq };
}

/**
 * A run on an existing thread: the thread's row is touched first (its row lock keeps a message from slipping in, and
 * a thread that is missing or someone else's writes nothing), then its messages and the run go in. A thread with an
 * active run refuses it (`reject`, the default, one statement) or it waits behind that run (`multitaskStrategy`, a
 * transaction); the partial unique index refuses a second active run that does not wait.
 */
export async function createRun(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  input: RunSettingsInput,
  options: NewRunOptions & {
    additionalMessages?: CreateMessageInput[] | null;
    /** The assistant of `input.assistant_id`, when the caller has it already: its model is still checked. */
    assistant?: RunAssistant;
    multitaskStrategy?: MultitaskStrategy;
  } = {},
): Promise<CreatedRun> {
  // A missing thread is the error a caller sees first, also when the assistant is missing too.
  const assistant =
    options.assistant ??
    (await loadAssistantForRun(deps, principal, input.assistant_id).catch(async (error: unknown) => {
      await ownedThread(deps.db, principal, threadId);
      throw error;
    }));
  const owner = principal.projectId;
  // The run's statement checks the thread's project; an end user's thread is checked here (its owner never changes).
  if (principal.endUserId !== null) await ownedThread(deps.db, principal, threadId);
  await refuseBeyondActiveRuns(deps, principal);
  const written = await writeFromAssistant(
    deps,
    principal,
    input,
    assistant,
    async (from) => {
      const now = new Date();
      const extra = (options.additionalMessages ?? []).map((message) =>
        newUserMessage(threadId, message, now),
      );
      // The run's owner is its thread's, which the transaction reads from the row it touches.
      const thread = { id: threadId, ownerId: principal.projectId };
      const made = withEventSeq(newRunRow(deps, thread, from.row, input, now, options.runId), undefined);
      const touch = { id: threadId, now, owner };
      const strategy = options.multitaskStrategy ?? 'reject';
      return insertRun(deps.db, made, { touch }, extra, from.version, strategy).catch(
        async (error: unknown) => {
          if (isActiveRunConflict(error)) {
            throw activeRunError(threadId, (await activeRunId(deps.db, threadId)) ?? 'unknown');
          }
          throw error;
        },
      );
    },
    // The 404 of a thread that is missing or someone else's.
    () => ownedThread(deps.db, principal, threadId).then(() => Promise.reject(notFound('thread', threadId))),
  );
  return announceCreated(deps, written, undefined, options);
}

/** Create-thread-and-run: the thread, its messages and the run in one statement (nobody else sees the thread yet). */
export async function createThreadAndRun(
  deps: AppDeps,
  principal: Principal,
  threadInput: CreateThreadInput,
  input: RunSettingsInput,
  options: NewRunOptions = {},
): Promise<CreatedRun> {
  await refuseBeyondActiveRuns(deps, principal);
  const stored = await withStoredToolResources(deps, principal, threadInput);
  const thread = newThreadRow(threadOwnerOf(principal), stored, new Date());
  const initial = initialMessages(thread, stored);
  const written = await writeFromAssistant(deps, principal, input, undefined, async (from) => {
    const made = withEventSeq(
      newRunRow(deps, thread, from.row, input, thread.createdAt, options.runId),
      thread,
    );
    return insertRun(deps.db, made, { insert: thread }, initial, from.version);
  });
  return announceCreated(deps, written, thread, options);
}
