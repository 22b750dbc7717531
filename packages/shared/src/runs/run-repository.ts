// The run's state changes as named operations: each one compare-and-set on the run's status (so when two actors
// race exactly one wins, and the other is told by a null), and each stores the run's event seq for the events it
// is about to publish. Persist here first, then publish.
import { and, asc, desc, eq, exists, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { assistants, messages, runSteps, runs, threads, toolExecutions, usageLogs } from '../db/schema.js';
import { newId } from '../ids.js';
import type { MessageRow, RunRow, RunStepRow } from '../objects.js';
import { allowedFrom, type RunStatus } from '../run-status.js';
import type { IncompleteDetails, LastError, StepToolCall, Usage } from '../wire.js';

/** A worker's hold on a run it drives: who, and until when unless renewed. */
export interface Lease {
  owner: string;
  until: Date;
}

/** The answer message a turn writes, with its message_creation step. */
export interface Answer {
  message: MessageRow;
  step: RunStepRow;
}

/** What a turn starts from: the thread's messages and the run's tool steps, oldest first. */
export interface TurnContext {
  history: MessageRow[];
  toolSteps: RunStepRow[];
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** An assistant row's version (Postgres's xmin): a run made from a remembered assistant checks it is current. */
export const assistantRowVersion = sql<string>`${assistants}.xmin::text`;

/** A new thread, or an existing one that must belong to `owner` (null: to anyone, for an admin). */
export type RunThread =
  | { insert: typeof threads.$inferInsert }
  | { touch: { id: string; now: Date; owner: string | null } };

/**
 * When given, the run is written only while the assistant's row is at this version: otherwise the run must be made
 * again from the assistant as it is now.
 */
export type AssistantVersion = string | null;

/** What the write did: the run's owner (its thread's), or why nothing was written. */
export type RunInsert = { ownerId: string } | { refused: 'thread_not_found' | 'assistant_changed' };

/**
 * Writes a new run in one statement (it is on every run's path, so one round trip): the thread is inserted, or
 * touched (its row lock keeps a message from slipping in, and it must be the owner's), then the run's messages and
 * the run go in. The run's thread and owner are read from the touch, its assistant id from the assistant's row at
 * `assistantVersion`: a thread that is missing or someone else's, or an assistant that changed, leaves that NOT
 * NULL column null, and the statement writes nothing. The one-active-run index refuses a second active run.
 */
export async function insertRun(
  db: Db,
  run: RunRow,
  thread: RunThread,
  withMessages: (typeof messages.$inferInsert)[],
  assistantVersion: AssistantVersion,
): Promise<RunInsert> {
  const threadWrite =
    'insert' in thread
      ? db
          .$with('written_thread')
          .as(
            db.insert(threads).values(thread.insert).returning({ id: threads.id, ownerId: threads.ownerId }),
          )
      : db.$with('written_thread').as(
          db
            .update(threads)
            .set({ lastActivityAt: thread.touch.now })
            .where(
              and(
                eq(threads.id, thread.touch.id),
                thread.touch.owner === null ? undefined : eq(threads.ownerId, thread.touch.owner),
              ),
            )
            .returning({ id: threads.id, ownerId: threads.ownerId }),
        );
  const ofThread = {
    threadId: sql<string>`(select id from written_thread)`,
    ownerId: sql<string>`(select owner_id from written_thread)`,
  };
  const assistantId =
    assistantVersion === null
      ? run.assistantId
      : sql<string>`(${db
          .select({ id: assistants.id })
          .from(assistants)
          .where(
            and(eq(assistants.id, run.assistantId), sql`${assistantRowVersion} = ${assistantVersion}`),
          )})`;
  const writes = [
    threadWrite,
    ...(withMessages.length > 0
      ? [
          db
            .$with('written_messages')
            .as(
              db
                .insert(messages)
                .values(withMessages.map((message) => ({ ...message, threadId: ofThread.threadId }))),
            ),
        ]
      : []),
  ];
  try {
    const [written] = await db
      .with(...writes)
      .insert(runs)
      .values({ ...run, ...ofThread, assistantId })
      .returning({ ownerId: runs.ownerId });
    if (!written) throw new Error('insert returned no row');
    return { ownerId: written.ownerId };
  } catch (error) {
    const refused = refusalOf(error);
    if (refused) return { refused };
    throw error;
  }
}

/** Which missing row a failed run write stands for: the NOT NULL column it left null. */
function refusalOf(error: unknown): 'thread_not_found' | 'assistant_changed' | null {
  const cause =
    (error as { cause?: { code?: string; column?: string } }).cause ??
    (error as { code?: string; column?: string });
  if (cause.code !== '23502') return null;
  if (cause.column === 'thread_id') return 'thread_not_found';
  if (cause.column === 'assistant_id') return 'assistant_changed';
  return null;
}

export async function findRun(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId));
  return row ?? null;
}

/** A queued run becomes in_progress, held by `lease` (whose holder numbers the run's events from its seq on). */
export async function claimRun(db: Db, runId: string, lease: Lease, now: Date): Promise<RunRow | null> {
  const [row] = await db
    .update(runs)
    .set({
      status: 'in_progress',
      // A run queued again after tool outputs keeps the time it first started.
      startedAt: sql`coalesce(${runs.startedAt}, ${now.toISOString()}::timestamptz)`,
      jobId: null,
      leaseOwner: lease.owner,
      leaseExpiresAt: lease.until,
    })
    .where(and(eq(runs.id, runId), eq(runs.status, 'queued')))
    .returning();
  return row ?? null;
}

/** An in_progress run nobody holds (its built-in tools were running) is taken by the worker that continues it. */
export async function takeRun(db: Db, runId: string, lease: Lease, now: Date): Promise<RunRow | null> {
  const [row] = await db
    .update(runs)
    .set({ leaseOwner: lease.owner, leaseExpiresAt: lease.until })
    .where(and(eq(runs.id, runId), eq(runs.status, 'in_progress'), isFreeAt(now)))
    .returning();
  return row ?? null;
}

function isFreeAt(now: Date) {
  return or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, now));
}

/** Extends a held lease and records the seq its holder has reached; false when the run is no longer its own. */
export async function renewLease(db: Db, runId: string, lease: Lease, eventSeq: number): Promise<boolean> {
  const renewed = await db
    .update(runs)
    .set({ leaseExpiresAt: lease.until, eventSeq: sql`greatest(${runs.eventSeq}, ${eventSeq})` })
    .where(
      and(
        eq(runs.id, runId),
        eq(runs.leaseOwner, lease.owner),
        inArray(runs.status, ['in_progress', 'cancelling']),
      ),
    )
    .returning({ id: runs.id });
  return renewed.length === 1;
}

/** The messages of a run's thread, oldest first: read by the run's id, so the read can go alongside its claim. */
export async function loadHistory(db: Db, runId: string): Promise<MessageRow[]> {
  const threadOfRun = db.select({ threadId: runs.threadId }).from(runs).where(eq(runs.id, runId));
  return db.select().from(messages).where(inArray(messages.threadId, threadOfRun)).orderBy(asc(messages.id));
}

/** A run's tool steps, oldest first; a run without usage has had no model turn, so it has none to read. */
export async function loadToolSteps(db: Db, run: Pick<RunRow, 'id' | 'usage'>): Promise<RunStepRow[]> {
  if (run.usage === null) return [];
  return db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.runId, run.id), eq(runSteps.type, 'tool_calls')))
    .orderBy(asc(runSteps.id));
}

/** The content of a message that is the text of an answer. */
export function textContent(text: string) {
  return [{ type: 'text' as const, text: { value: text, annotations: [] } }];
}

/** The rows of a new answer and its step, in progress. */
export function newAnswer(run: RunRow, now: Date): Answer {
  const ofRun = { runId: run.id, threadId: run.threadId, assistantId: run.assistantId, createdAt: now };
  const messageId = newId('message');
  return {
    message: {
      ...ofRun,
      id: messageId,
      role: 'assistant',
      content: [],
      status: 'in_progress',
      attachments: [],
      metadata: {},
      incompleteDetails: null,
      completedAt: null,
      incompleteAt: null,
    },
    step: {
      ...ofRun,
      id: newId('step'),
      type: 'message_creation',
      status: 'in_progress',
      stepDetails: { type: 'message_creation', message_creation: { message_id: messageId } },
      lastError: null,
      usage: null,
      expiredAt: null,
      cancelledAt: null,
      failedAt: null,
      completedAt: null,
    },
  };
}

/** Stores a new answer and its step, one statement for the two rows (the first text waits for it). */
export async function openAnswer(db: Db, answer: Answer): Promise<void> {
  const step = db
    .$with('answer_step')
    .as(db.insert(runSteps).values(answer.step).returning({ id: runSteps.id }));
  await db.with(step).insert(messages).values(answer.message);
}

/** An answer as a turn closes it. */
export interface ClosedAnswer {
  answer: Answer;
  text: string;
  /** `incomplete`: the model stopped at its token limit. */
  status: 'completed' | 'incomplete';
  /** The turn's usage, on the step of a run's last answer. */
  usage: Usage | null;
}

export function closedAnswer({ answer, text, status, usage }: ClosedAnswer, now: Date): Answer {
  const content = textContent(text);
  const message: MessageRow =
    status === 'completed'
      ? { ...answer.message, status, content, completedAt: now }
      : {
          ...answer.message,
          status,
          content,
          incompleteAt: now,
          incompleteDetails: { reason: 'max_tokens' },
        };
  return { message, step: { ...answer.step, status: 'completed', completedAt: now, usage } };
}

/** One model call's usage, for `usage_logs`. */
export interface UsageRecord {
  model: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
}

function usageLogRow(run: RunRow, record: UsageRecord) {
  return {
    runId: run.id,
    ownerId: run.ownerId,
    model: record.model,
    promptTokens: record.usage.prompt_tokens,
    completionTokens: record.usage.completion_tokens,
    totalTokens: record.usage.total_tokens,
    costUsd: record.costUsd.toFixed(8),
    latencyMs: Math.round(record.latencyMs),
    firstTokenMs: record.firstTokenMs === null ? null : Math.round(record.firstTokenMs),
  };
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  return {
    prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
    completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
    total_tokens: (a?.total_tokens ?? 0) + b.total_tokens,
  };
}

export interface RunEnding {
  status: 'completed' | 'incomplete';
  incompleteDetails: IncompleteDetails | null;
  /** The run's usage with the last turn's. */
  usage: Usage;
  /** The last turn's model call, logged whatever became of the run (null: the model was not called). */
  usageLog: UsageRecord | null;
  answer: Answer | null;
  eventSeq: number;
  now: Date;
}

/**
 * Ends a run after its last turn, one statement: the run's compare-and-set is the gate for closing the answer and
 * its step and touching the thread; the usage row goes in regardless. Answers the ended run, or null when another
 * actor had ended it first.
 */
export async function endRun(db: Db, run: RunRow, ending: RunEnding): Promise<RunRow | null> {
  const ended = db.$with('ended').as(
    db
      .update(runs)
      .set({
        status: ending.status,
        completedAt: ending.now,
        expiresAt: null,
        requiredAction: null,
        incompleteDetails: ending.incompleteDetails,
        usage: ending.usage,
        eventSeq: ending.eventSeq,
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where(and(eq(runs.id, run.id), inArray(runs.status, allowedFrom(ending.status))))
      .returning(),
  );
  const hasEnded = exists(db.select({ id: ended.id }).from(ended));
  const writes = [
    ...(ending.usageLog
      ? [db.$with('usage_log').as(db.insert(usageLogs).values(usageLogRow(run, ending.usageLog)))]
      : []),
    ...(ending.answer ? answerWrites(db, ending.answer, hasEnded) : []),
    db.$with('touched_thread').as(
      db
        .update(threads)
        .set({ lastActivityAt: ending.now })
        .where(and(eq(threads.id, run.threadId), hasEnded)),
    ),
  ];
  const [row] = await db
    .with(ended, ...writes)
    .select()
    .from(ended);
  return row ?? null;
}

/** The closed answer's two rows as parts of a larger statement, written only when `gate` holds. */
function answerWrites(db: Db, closed: Answer, gate: ReturnType<typeof exists>) {
  const { message, step } = closed;
  return [
    db.$with('closed_message').as(
      db
        .update(messages)
        .set({
          status: message.status,
          content: message.content,
          completedAt: message.completedAt,
          incompleteAt: message.incompleteAt,
          incompleteDetails: message.incompleteDetails,
        })
        .where(and(eq(messages.id, message.id), gate)),
    ),
    db.$with('closed_step').as(
      db
        .update(runSteps)
        .set({ status: step.status, completedAt: step.completedAt, usage: step.usage })
        .where(and(eq(runSteps.id, step.id), gate)),
    ),
  ];
}

export interface ToolTurn {
  calls: StepToolCall[];
  usage: UsageRecord;
  /** The answer the turn wrote before its calls, closed. */
  answer: Answer | null;
  eventSeq: number;
  now: Date;
}

async function closeAnswer(tx: Tx, { message, step }: Answer): Promise<void> {
  await tx
    .update(messages)
    .set({ status: message.status, content: message.content, completedAt: message.completedAt })
    .where(eq(messages.id, message.id));
  await tx
    .update(runSteps)
    .set({ status: step.status, completedAt: step.completedAt, usage: step.usage })
    .where(eq(runSteps.id, step.id));
}

/**
 * Records a turn's tool calls: the run's usage and seq (while it is still in_progress), the closed answer, and the
 * new tool_calls step, which carries the turn's usage. Answers the step, or null when the run had moved on.
 */
export async function recordToolCalls(db: Db, run: RunRow, turn: ToolTurn): Promise<RunStepRow | null> {
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(runs)
      .set({ usage: addUsage(run.usage, turn.usage.usage), eventSeq: turn.eventSeq })
      .where(and(eq(runs.id, run.id), eq(runs.status, 'in_progress')))
      .returning({ id: runs.id });
    await tx.insert(usageLogs).values(usageLogRow(run, turn.usage));
    if (!updated) return null;
    if (turn.answer) await closeAnswer(tx, turn.answer);
    const [step] = await tx
      .insert(runSteps)
      .values({
        id: newId('step'),
        runId: run.id,
        threadId: run.threadId,
        assistantId: run.assistantId,
        type: 'tool_calls',
        status: 'in_progress',
        stepDetails: { type: 'tool_calls', tool_calls: turn.calls },
        usage: turn.usage.usage,
        createdAt: turn.now,
      })
      .returning();
    return step ?? null;
  });
}

/**
 * While built-in tools run nobody holds the run: the continuation job (`jobId`) takes it (`takeRun`), and the
 * sweeper checks that job is still there.
 */
export async function releaseLease(
  db: Db,
  runId: string,
  owner: string,
  jobId: string | null,
): Promise<void> {
  await db
    .update(runs)
    .set({ leaseOwner: null, leaseExpiresAt: null, jobId })
    .where(and(eq(runs.id, runId), eq(runs.leaseOwner, owner)));
}

/**
 * An in_progress run nobody holds starts over (nothing of it was streamed); its seq moves past `queued`, and past
 * `seqFloor` (the last seq in the run's log: a holder that died published its `in_progress` without storing it).
 */
export async function requeueRun(
  db: Db,
  runId: string,
  jobId: string,
  now: Date,
  seqFloor: number,
): Promise<RunRow | null> {
  const [row] = await db
    .update(runs)
    .set({
      status: 'queued',
      jobId,
      leaseOwner: null,
      leaseExpiresAt: null,
      eventSeq: sql`greatest(${runs.eventSeq}, ${seqFloor}) + 1`,
    })
    .where(and(eq(runs.id, runId), eq(runs.status, 'in_progress'), isFreeAt(now)))
    .returning();
  return row ?? null;
}

/** Records the job that now carries the run forward (the sweeper enqueued it again). */
export async function setRunJob(db: Db, runId: string, jobId: string): Promise<void> {
  await db.update(runs).set({ jobId }).where(eq(runs.id, runId));
}

/** What the sweeper looks at: runs in an active status that a fault may have left behind. */
export interface Orphans {
  expired: RunRow[];
  /** Queued for longer than the grace: their job must still exist. */
  queued: RunRow[];
  /** In progress or cancelling, and nobody holds them (no lease, or an expired one). */
  unheld: RunRow[];
}

export async function findOrphans(
  db: Db,
  now: Date,
  options: { queuedBefore: Date; limit: number },
): Promise<Orphans> {
  const active = inArray(runs.status, ['queued', 'in_progress', 'requires_action', 'cancelling']);
  const [expired, queued, unheld] = await Promise.all([
    db
      .select()
      .from(runs)
      .where(and(active, lt(runs.expiresAt, now)))
      .limit(options.limit),
    db
      .select()
      .from(runs)
      .where(and(eq(runs.status, 'queued'), lt(runs.createdAt, options.queuedBefore)))
      .orderBy(asc(runs.id))
      .limit(options.limit),
    db
      .select()
      .from(runs)
      .where(and(inArray(runs.status, ['in_progress', 'cancelling']), isFreeAt(now)))
      .orderBy(asc(runs.id))
      .limit(options.limit),
  ]);
  return { expired, queued, unheld };
}

/** Stores the outputs of a tool step's calls (some may still be missing: client functions). */
export async function saveToolOutputs(
  db: Db,
  stepId: string,
  calls: StepToolCall[],
): Promise<RunStepRow | null> {
  const [row] = await db
    .update(runSteps)
    .set({ stepDetails: { type: 'tool_calls', tool_calls: calls } })
    .where(and(eq(runSteps.id, stepId), eq(runSteps.status, 'in_progress')))
    .returning();
  return row ?? null;
}

/** Completes a tool step whose calls all have outputs; null when it was no longer open. */
export async function completeToolCalls(
  db: Db,
  stepId: string,
  calls: StepToolCall[],
  now: Date,
): Promise<RunStepRow | null> {
  const [row] = await db
    .update(runSteps)
    .set({ status: 'completed', completedAt: now, stepDetails: { type: 'tool_calls', tool_calls: calls } })
    .where(and(eq(runSteps.id, stepId), eq(runSteps.status, 'in_progress')))
    .returning();
  return row ?? null;
}

/** The run waits for the client's outputs of `calls`; the lease goes, and so does the wait for a worker. */
export async function requireAction(
  db: Db,
  runId: string,
  calls: StepToolCall[],
  eventSeq: number,
): Promise<RunRow | null> {
  const [row] = await db
    .update(runs)
    .set({
      status: 'requires_action',
      requiredAction: {
        type: 'submit_tool_outputs',
        submit_tool_outputs: {
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.function.name, arguments: call.function.arguments },
          })),
        },
      },
      eventSeq,
      leaseOwner: null,
      leaseExpiresAt: null,
    })
    .where(and(eq(runs.id, runId), inArray(runs.status, allowedFrom('requires_action'))))
    .returning();
  return row ?? null;
}

/** The recorded outcomes of tool calls (the one source of their results), by call id. */
export async function findToolResults(db: Db, callIds: string[]) {
  if (callIds.length === 0) return new Map<string, { output: string | null; isError: boolean }>();
  const rows = await db
    .select({ callId: toolExecutions.callId, status: toolExecutions.status, output: toolExecutions.output })
    .from(toolExecutions)
    .where(inArray(toolExecutions.callId, callIds));
  return new Map(
    rows
      .filter((row) => row.status !== 'running')
      .map((row) => [row.callId, { output: row.output, isError: row.status === 'failed' }]),
  );
}

/** The run's open tool step, if it has one. */
export async function findOpenToolStep(db: Db, runId: string): Promise<RunStepRow | null> {
  const [row] = await db
    .select()
    .from(runSteps)
    .where(
      and(eq(runSteps.runId, runId), eq(runSteps.type, 'tool_calls'), eq(runSteps.status, 'in_progress')),
    )
    .orderBy(desc(runSteps.id))
    .limit(1);
  return row ?? null;
}

/** The run's answer still being written, if it has one (its worker stopped while streaming it). */
export async function findOpenAnswer(db: Db, runId: string): Promise<MessageRow | null> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.runId, runId), eq(messages.status, 'in_progress')))
    .limit(1);
  return row ?? null;
}

/** Keeps the text streamed so far on an answer the run is about to end early. */
export async function saveAnswerText(db: Pick<Db, 'update'>, messageId: string, text: string): Promise<void> {
  await db
    .update(messages)
    .set({ content: textContent(text) })
    .where(eq(messages.id, messageId));
}

/** How a run ends without finishing: the run's error when it failed. */
export type EarlyEnding =
  | { status: 'cancelled' }
  | { status: 'expired' }
  | { status: 'failed'; error: LastError };

const messageReasons = { cancelled: 'run_cancelled', expired: 'run_expired', failed: 'run_failed' } as const;

/** What an early ending wrote: the run, and the answer and steps it closed, for their events. */
export interface EarlyEnded {
  run: RunRow;
  /** The run as it was when the ending began (for a cancellation's `thread.run.cancelling`). */
  before: RunRow;
  closedMessages: MessageRow[];
  closedSteps: RunStepRow[];
  /** The seq of the first event of the ending. */
  firstSeq: number;
}

function earlyRunPatch(ending: EarlyEnding, now: Date) {
  switch (ending.status) {
    case 'cancelled':
      return { cancelledAt: now, expiresAt: null, requiredAction: null, lastError: null };
    case 'expired':
      return { requiredAction: null, lastError: null };
    case 'failed':
      return { failedAt: now, expiresAt: null, requiredAction: null, lastError: ending.error };
  }
}

function earlyStepPatch(ending: EarlyEnding, now: Date) {
  switch (ending.status) {
    case 'cancelled':
      return { status: 'cancelled' as const, cancelledAt: now };
    case 'expired':
      return { status: 'expired' as const, expiredAt: now };
    case 'failed':
      return { status: 'failed' as const, failedAt: now, lastError: ending.error };
  }
}

/**
 * Ends a run that did not finish, in one transaction: the run moves (from `from`, by default any status that may
 * move there), its open answer becomes incomplete (keeping the text its clients received) and its open steps end
 * with it. `eventCount` tells how many
 * events the ending will publish for what it closed: the run's seq moves past them, and past `seqFloor` (the last
 * seq in the run's log, which a holder that died may have taken beyond the stored seq). Null when the run could not
 * move (another actor won).
 */
export async function writeEarlyEnding(
  db: Db,
  runId: string,
  ending: EarlyEnding,
  options: {
    from?: readonly RunStatus[];
    /** Only while nobody holds the run (the sweeper's endings). */
    onlyIfUnheld?: boolean;
    now: Date;
    seqFloor: number;
    /** The text an open answer's clients received, for an answer whose worker did not store it. */
    streamedText: (messageId: string) => Promise<string>;
    eventCount: (closed: { messages: number; steps: number; before: RunRow }) => number;
  },
): Promise<EarlyEnded | null> {
  const { now } = options;
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(runs)
      .where(
        and(
          eq(runs.id, runId),
          inArray(runs.status, [...(options.from ?? allowedFrom(ending.status))]),
          options.onlyIfUnheld ? isFreeAt(now) : undefined,
        ),
      )
      .for('update');
    if (!before) return null;
    const openMessages = await tx
      .select()
      .from(messages)
      .where(and(eq(messages.runId, runId), eq(messages.status, 'in_progress')));
    const closedMessages: MessageRow[] = [];
    for (const open of openMessages) {
      // An answer its worker did not store keeps what its clients received.
      const content =
        open.content.length > 0 ? open.content : textContent(await options.streamedText(open.id));
      const [closed] = await tx
        .update(messages)
        .set({
          status: 'incomplete',
          content,
          incompleteAt: now,
          incompleteDetails: { reason: messageReasons[ending.status] },
        })
        .where(eq(messages.id, open.id))
        .returning();
      if (closed) closedMessages.push(closed);
    }
    const closedSteps = await tx
      .update(runSteps)
      .set(earlyStepPatch(ending, now))
      .where(and(eq(runSteps.runId, runId), eq(runSteps.status, 'in_progress')))
      .returning();
    const count = options.eventCount({
      messages: closedMessages.length,
      steps: closedSteps.length,
      before,
    });
    const base = Math.max(before.eventSeq, options.seqFloor);
    const [run] = await tx
      .update(runs)
      .set({
        ...earlyRunPatch(ending, now),
        status: ending.status,
        eventSeq: base + count,
        jobId: null,
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where(eq(runs.id, runId))
      .returning();
    if (!run) throw new Error(`run ${runId} vanished inside its own transaction`);
    return { run, before, closedMessages, closedSteps, firstSeq: base + 1 };
  });
}
