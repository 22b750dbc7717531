// The run's state changes as named operations: each one compare-and-set on the run's status (so when two actors
// race exactly one wins, and the other is told by a null), and each stores the run's event seq for the events it
// is about to publish. Persist here first, then publish.
import {
  and,
  asc,
  desc,
  eq,
  exists,
  getTableColumns,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  notExists,
  or,
  type SQL,
  type SQLWrapper,
  sql,
} from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import {
  asJson,
  preparedStatement,
  recordset,
  recordsetValue,
  rowFromJson,
  rowPlaceholders,
  rowValues,
  slot,
} from '../db/prepared.js';
import { assistants, messages, runSteps, runs, threads, toolExecutions, usageLogs } from '../db/schema.js';
import { newId } from '../ids.js';
import type { MessageRow, RunRow, RunStepRow, ThreadRow } from '../objects.js';
import { activeStatuses, allowedFrom, isTerminal, type RunStatus } from '../run-status.js';
import type {
  CodeOutputFile,
  FileCitationAnnotation,
  IncompleteDetails,
  LastError,
  StepToolCall,
  Usage,
} from '../wire.js';

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
  /** Where each run's messages and steps go in the conversation: after the messages up to this id. */
  turnOf: ReadonlyMap<string, string>;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** An assistant row's version (Postgres's xmin): a run made from a remembered assistant checks it is current. */
export const assistantRowVersion = sql<string>`${assistants}.xmin::text`;

/** The thread a run is written with: a new one, or an existing one. */
export type RunThread = { insert: ThreadRow } | { touch: ThreadTouch };

/** An existing thread a run is written on, which must belong to `owner` (the caller's project). */
export interface ThreadTouch {
  id: string;
  now: Date;
  owner: string;
}

/**
 * When given, the run is written only while the assistant's row is at this version: otherwise the run must be made
 * again from the assistant as it is now.
 */
export type AssistantVersion = string | null;

/**
 * How a new run joins a thread that has one already (`multitask_strategy`): `reject` refuses it; `enqueue` waits
 * behind the thread's last run; `interrupt` and `rollback` also wait behind it, and the runs before it are
 * cancelled (the caller does that, then the ending releases it); `rollback` also removes, when it is released, the
 * assistant messages and steps of the run that was running when it was written.
 */
export const multitaskStrategies = ['reject', 'enqueue', 'interrupt', 'rollback'] as const;
export type MultitaskStrategy = (typeof multitaskStrategies)[number];

/**
 * What the write did: the run as stored (its owner is its thread's; a run that waits has no job yet) and, for
 * interrupt and rollback, the runs it supersedes, last first (the order to cancel them in); or why nothing was
 * written.
 */
export type RunInsert =
  | { run: RunRow; supersedes: string[] }
  | { refused: 'thread_not_found' | 'assistant_changed' };

/**
 * Writes a new run with the messages that come with it: with a new thread, or touching (and so locking) an existing
 * one. A run that may not wait (`reject`) is one statement; the one-active-run index refuses it when the thread has
 * an active run. A run that may wait is a transaction: under the thread's lock it sees the thread's unfinished runs
 * and waits behind the last of them, and the messages' ids and the run's `historyUntil` are taken under the lock, so
 * a thread's messages are in the order their runs queue.
 */
export async function insertRun(
  db: Db,
  run: RunRow,
  thread: RunThread,
  withMessages: MessageRow[],
  assistantVersion: AssistantVersion,
  strategy: MultitaskStrategy = 'reject',
): Promise<RunInsert> {
  if ('insert' in thread) return insertRunWithThread(db, run, thread.insert, withMessages, assistantVersion);
  if (strategy === 'reject') return insertRunOnThread(db, run, thread.touch, withMessages, assistantVersion);
  return insertWaitingRun(db, run, thread.touch, withMessages, assistantVersion, strategy);
}

/** A run that may wait behind the thread's unfinished runs (`enqueue`, `interrupt`, `rollback`), in a transaction. */
async function insertWaitingRun(
  db: Db,
  run: RunRow,
  touch: ThreadTouch,
  withMessages: MessageRow[],
  assistantVersion: AssistantVersion,
  strategy: Exclude<MultitaskStrategy, 'reject'>,
): Promise<RunInsert> {
  return db.transaction(async (tx) => {
    // Checked before anything is written: a refusal commits nothing.
    if (assistantVersion !== null) {
      const [current] = await tx
        .select({ id: assistants.id })
        .from(assistants)
        .where(and(eq(assistants.id, run.assistantId), sql`${assistantRowVersion} = ${assistantVersion}`));
      if (!current) return { refused: 'assistant_changed' } as const;
    }
    const ownerId = await touchThread(tx, touch);
    if (ownerId === null) return { refused: 'thread_not_found' } as const;
    const chain = await unfinishedChain(tx, run.threadId);
    const [running] = chain;
    const tail = chain.at(-1) ?? null;
    const own = withMessages.map((message) => ({ ...message, id: newId('message') }));
    const stored: RunRow = {
      ...run,
      ownerId,
      waitsFor: tail?.id ?? null,
      jobId: tail ? null : run.jobId,
      rollsBack: strategy === 'rollback' && running ? running.id : null,
      // After its own messages' ids, before those of any run written later.
      historyUntil: newId('message'),
    };
    if (own.length > 0) await tx.insert(messages).values(own);
    await tx.insert(runs).values(stored);
    if (stored.waitsFor !== null) {
      await tx.update(threads).set({ hasWaitingRuns: true }).where(eq(threads.id, run.threadId));
    }
    const supersedes = strategy === 'interrupt' || strategy === 'rollback' ? chain.map((row) => row.id) : [];
    return { run: stored, supersedes: supersedes.reverse() };
  });
}

/** The messages written with a run, as one value (`recordset`): the statement takes any number of them. */
function writtenMessages(db: Db) {
  return db
    .$with('written_messages')
    .as(db.insert(messages).select(sql`select * from ${recordset(messages, 'messages')}`));
}

/**
 * The assistant's id, as part of a statement: as given when no version is (the row was read for this request), else
 * while its row is at that version, and null when the row changed or is gone.
 */
function currentAssistant(db: Db) {
  const assistantId = sql`${sql.placeholder('assistantId')}::text`;
  const version = sql`${sql.placeholder('assistantVersion')}::text`;
  const atVersion = db
    .select({ id: assistants.id })
    .from(assistants)
    .where(and(eq(assistants.id, assistantId), sql`${assistantRowVersion} = ${version}`));
  return sql<string>`case when ${version} is null then ${assistantId} else (${atVersion}) end`;
}

/** The values of a run statement's run, messages and assistant placeholders, in one object. */
function runWriteValues(run: RunRow, withMessages: MessageRow[], assistantVersion: AssistantVersion) {
  const values = rowValues(runs, 'run', run);
  values.messages = recordsetValue(messages, withMessages);
  values.assistantId = run.assistantId;
  values.assistantVersion = assistantVersion;
  return values;
}

const insertRunWithThreadStatement = preparedStatement('insert_run_with_thread', (db, name) =>
  db
    .with(
      db.$with('written_thread').as(db.insert(threads).values(rowPlaceholders(threads, 'thread'))),
      writtenMessages(db),
    )
    .insert(runs)
    .values({ ...rowPlaceholders(runs, 'run'), assistantId: currentAssistant(db) })
    .prepare(name),
);

/**
 * A run on a new thread, in one statement (the path of every create-thread-and-run and new chat: nobody else sees
 * the thread yet, so there is no queue to read and no lock to take): the thread, its messages and the run. An
 * assistant whose row changed since `assistantVersion` leaves `runs.assistant_id` null, and nothing is written.
 */
async function insertRunWithThread(
  db: Db,
  run: RunRow,
  thread: ThreadRow,
  withMessages: MessageRow[],
  assistantVersion: AssistantVersion,
): Promise<RunInsert> {
  const own = withMessages.map((message) => ({ ...message, id: newId('message') }));
  const stored: RunRow = { ...run, waitsFor: null, rollsBack: null, historyUntil: newId('message') };
  try {
    const values = rowValues(threads, 'thread', thread, runWriteValues(stored, own, assistantVersion));
    await insertRunWithThreadStatement(db).execute(values);
  } catch (error) {
    if (leftNull(error, 'assistant_id')) return { refused: 'assistant_changed' };
    throw error;
  }
  return { run: stored, supersedes: [] };
}

const insertRunOnThreadStatement = preparedStatement('insert_run_on_thread', (db, name) => {
  const touched = db.$with('touched_thread').as(
    db
      .update(threads)
      .set({ lastActivityAt: slot('now') })
      .where(and(eq(threads.id, slot('threadId')), eq(threads.ownerId, slot('owner'))))
      .returning({ ownerId: threads.ownerId }),
  );
  return db
    .with(touched, writtenMessages(db))
    .insert(runs)
    .values({
      ...rowPlaceholders(runs, 'run'),
      ownerId: sql<string>`(select ${touched.ownerId} from ${touched})`,
      assistantId: currentAssistant(db),
    })
    .returning({ ownerId: runs.ownerId })
    .prepare(name);
});

/**
 * A run that may not wait, on an existing thread, in one statement: the thread's row is touched first (its row lock
 * keeps a message from slipping in), then its messages and the run go in. The run's owner is read from the touched
 * row, so a thread that is missing or someone else's leaves it null and nothing is written; an assistant whose row
 * changed leaves `assistant_id` null. The one-active-run index refuses the run when the thread has an active one.
 */
async function insertRunOnThread(
  db: Db,
  run: RunRow,
  touch: ThreadTouch,
  withMessages: MessageRow[],
  assistantVersion: AssistantVersion,
): Promise<RunInsert> {
  const own = withMessages.map((message) => ({ ...message, id: newId('message') }));
  const stored: RunRow = { ...run, waitsFor: null, rollsBack: null, historyUntil: newId('message') };
  try {
    const values = runWriteValues(stored, own, assistantVersion);
    values.threadId = touch.id;
    values.owner = touch.owner;
    values.now = touch.now;
    const [written] = await insertRunOnThreadStatement(db).execute(values);
    return { run: { ...stored, ownerId: written?.ownerId ?? stored.ownerId }, supersedes: [] };
  } catch (error) {
    if (leftNull(error, 'owner_id')) return { refused: 'thread_not_found' };
    if (leftNull(error, 'assistant_id')) return { refused: 'assistant_changed' };
    throw error;
  }
}

/** Whether a statement failed because it left `column` null (a NOT NULL violation, as drizzle wraps it). */
function leftNull(error: unknown, column: string): boolean {
  const cause = (error as { cause?: { code?: string; column?: string } }).cause;
  return cause?.code === '23502' && cause.column === column;
}

/** The thread's unfinished runs in the order they run: the one running (or next to run) first. */
async function unfinishedChain(tx: Tx, threadId: string): Promise<Pick<RunRow, 'id' | 'waitsFor'>[]> {
  const rows = await tx
    .select({ id: runs.id, waitsFor: runs.waitsFor })
    .from(runs)
    .where(and(eq(runs.threadId, threadId), inArray(runs.status, [...activeStatuses])));
  const behind = new Map(rows.filter((row) => row.waitsFor !== null).map((row) => [row.waitsFor, row]));
  const ids = new Set(rows.map((row) => row.id));
  // A run starts a stretch of the chain when no unfinished run is ahead of it: the one that runs first, then any
  // whose predecessor ended and which the release has not moved up yet, oldest first.
  const starts = rows
    .filter((row) => row.waitsFor === null || !ids.has(row.waitsFor))
    .sort((a, b) => Number(a.waitsFor !== null) - Number(b.waitsFor !== null) || (a.id < b.id ? -1 : 1));
  const chain: Pick<RunRow, 'id' | 'waitsFor'>[] = [];
  for (const start of starts) {
    for (let next: typeof start | undefined = start; next && chain.length < rows.length; ) {
      chain.push(next);
      next = behind.get(next.id);
    }
  }
  return chain;
}

/** Touches the thread (its row lock keeps a message from slipping in); answers its owner, or null when not found. */
async function touchThread(tx: Tx, touch: ThreadTouch): Promise<string | null> {
  const [touched] = await tx
    .update(threads)
    .set({ lastActivityAt: touch.now })
    .where(and(eq(threads.id, touch.id), eq(threads.ownerId, touch.owner)))
    .returning({ ownerId: threads.ownerId });
  return touched?.ownerId ?? null;
}

export async function findRun(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId));
  return row ?? null;
}

/** A claimed run and the messages it answers. */
export interface ClaimedRun {
  run: RunRow;
  history: RunHistory;
}

const claimStatement = preparedStatement('claim_run', (db, name) => {
  const claimed = db.$with('claimed').as(
    db
      .update(runs)
      .set({
        status: 'in_progress',
        // A run queued again after tool outputs keeps the time it first started.
        startedAt: sql`coalesce(${runs.startedAt}, ${sql.placeholder('now')}::timestamptz)`,
        jobId: null,
        leaseOwner: slot('owner'),
        leaseExpiresAt: sql`${sql.placeholder('until')}::timestamptz`,
      })
      .where(
        and(
          eq(runs.id, slot('runId')),
          eq(runs.status, 'queued'),
          isNull(runs.waitsFor),
          eq(runs.jobId, slot('jobId')),
        ),
      )
      .returning(),
  );
  // The claimed row's columns under the run's keys (drizzle selects a table whole, not a statement's rows).
  const run = Object.fromEntries(
    Object.keys(getTableColumns(runs)).map((key) => [key, claimed[key as keyof RunRow]]),
  ) as { [K in keyof RunRow]: (typeof claimed)[K] };
  return db
    .with(claimed)
    .select({ run, history: historyOf(db, claimed) })
    .from(claimed)
    .prepare(name);
});

/**
 * A queued run becomes in_progress, held by `lease` (whose holder numbers the run's events from its seq on), and
 * the messages it answers are read in the same statement. Only the job that carries the run (`runs.job_id`) takes
 * it: a job left over from before the run was queued again (a stalled job of a worker that died) would number its
 * events ahead of the requeue's announcement.
 */
export async function claimRun(
  db: Db,
  runId: string,
  jobId: string,
  lease: Lease,
  now: Date,
): Promise<ClaimedRun | null> {
  const [row] = await claimStatement(db).execute({
    runId,
    jobId,
    owner: lease.owner,
    until: lease.until.toISOString(),
    now: now.toISOString(),
  });
  return row ? { run: row.run, history: runHistory(row.run, row.history) } : null;
}

const takeStatement = preparedStatement('take_run', (db, name) =>
  db
    .update(runs)
    .set({ leaseOwner: slot('owner'), leaseExpiresAt: slot('until') })
    .where(and(eq(runs.id, slot('runId')), eq(runs.status, 'in_progress'), isFreeAt(slot('now'))))
    .returning()
    .prepare(name),
);

/** An in_progress run nobody holds (its built-in tools were running) is taken by the worker that continues it. */
export async function takeRun(db: Db, runId: string, lease: Lease, now: Date): Promise<RunRow | null> {
  const [row] = await takeStatement(db).execute({ runId, owner: lease.owner, until: lease.until, now });
  return row ?? null;
}

/** Runs nobody holds at `now` (no lease, or one that ran out); `isHeldAt` is the same test on a row read. */
function isFreeAt(now: Date | SQL) {
  return or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, now));
}

/** Whether a worker holds the run at `now`: its lease has not run out. */
export function isHeldAt(run: Pick<RunRow, 'leaseExpiresAt'>, now: Date): boolean {
  return run.leaseExpiresAt !== null && run.leaseExpiresAt >= now;
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

/** The thread's messages a run answers, oldest first, and where each run's answers go among them. */
export interface RunHistory {
  history: MessageRow[];
  turnOf: ReadonlyMap<string, string>;
}

/** A message of a run's history and, for an answer, the `historyUntil` of the run that wrote it. */
interface HistoryEntry {
  message: Record<string, unknown>;
  turn: string | null;
}

const answering = alias(runs, 'answering');

/**
 * The messages a run answers (`run`: the run's row in the enclosing statement), oldest first, as one JSON array of
 * `HistoryEntry`. A run that waited sees the thread up to its own messages (`historyUntil`) and the answers of the
 * runs before it, not the messages of the runs queued behind it.
 */
function historyOf(db: Db, run: { threadId: SQLWrapper; historyUntil: SQLWrapper }) {
  const entries = db
    .select({
      entries: sql`coalesce(json_agg(json_build_object('message', ${messages}, 'turn', ${answering.historyUntil})
        order by ${messages.id}), '[]')`,
    })
    .from(messages)
    .leftJoin(answering, eq(answering.id, messages.runId))
    .where(
      and(
        eq(messages.threadId, run.threadId),
        or(isNull(run.historyUntil), isNotNull(messages.runId), lte(messages.id, run.historyUntil)),
      ),
    );
  return sql<HistoryEntry[]>`(${entries})`;
}

/** A run's history from `historyOf`; `turnOf` places each run's answers after the messages it answered. */
function runHistory(run: Pick<RunRow, 'id' | 'historyUntil'>, entries: HistoryEntry[]): RunHistory {
  const turnOf = new Map<string, string>();
  if (run.historyUntil !== null) turnOf.set(run.id, run.historyUntil);
  const history: MessageRow[] = [];
  for (const { message, turn } of entries) {
    const row = rowFromJson(messages, message);
    history.push(row);
    if (row.runId && turn) turnOf.set(row.runId, turn);
  }
  return { history, turnOf };
}

const historyStatement = preparedStatement('history', (db, name) =>
  db
    .select({ historyUntil: runs.historyUntil, history: historyOf(db, runs) })
    .from(runs)
    .where(eq(runs.id, slot('runId')))
    .prepare(name),
);

/** The messages a run answers: `claimRun` reads them with its claim, a continuation here. */
async function loadHistory(db: Db, runId: string): Promise<RunHistory> {
  const [row] = await historyStatement(db).execute({ runId });
  return runHistory({ id: runId, historyUntil: row?.historyUntil ?? null }, row?.history ?? []);
}

/** What a turn of `run` starts from: its history and, when it has had a model turn already, its tool steps. */
export async function withToolSteps(db: Db, run: RunRow, history: RunHistory): Promise<TurnContext> {
  return { ...history, toolSteps: await loadToolSteps(db, run) };
}

/** The turn's messages and tool steps (`loadHistory`, `withToolSteps`). */
export async function loadTurnContext(db: Db, run: RunRow): Promise<TurnContext> {
  const [history, toolSteps] = await Promise.all([loadHistory(db, run.id), loadToolSteps(db, run)]);
  return { ...history, toolSteps };
}

const toolStepsStatement = preparedStatement('tool_steps', (db, name) =>
  db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.runId, slot('runId')), eq(runSteps.type, 'tool_calls')))
    .orderBy(asc(runSteps.id))
    .prepare(name),
);

/** A run's tool steps, oldest first; a run without usage has had no model turn, so it has none to read. */
async function loadToolSteps(db: Db, run: Pick<RunRow, 'id' | 'usage'>): Promise<RunStepRow[]> {
  if (run.usage === null) return [];
  return toolStepsStatement(db).execute({ runId: run.id });
}

/** The content of a message that is the text of an answer. */
export function textContent(text: string, annotations: FileCitationAnnotation[] = []) {
  return [{ type: 'text' as const, text: { value: text, annotations } }];
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

const openAnswerStatement = preparedStatement('open_answer', (db, name) => {
  const step = db
    .$with('answer_step')
    .as(db.insert(runSteps).values(rowPlaceholders(runSteps, 'step')).returning({ id: runSteps.id }));
  return db.with(step).insert(messages).values(rowPlaceholders(messages, 'message')).prepare(name);
});

/** Stores a new answer and its step, one statement for the two rows (the first text waits for it). */
export async function openAnswer(db: Db, answer: Answer): Promise<void> {
  await openAnswerStatement(db).execute(
    rowValues(runSteps, 'step', answer.step, rowValues(messages, 'message', answer.message)),
  );
}

/** An answer as a turn closes it. */
export interface ClosedAnswer {
  answer: Answer;
  text: string;
  /** `incomplete`: the model stopped at its token limit. */
  status: 'completed' | 'incomplete';
  /** The turn's usage, on the step of a run's last answer. */
  usage: Usage | null;
  /** What the run's code_interpreter calls made: figures become `image_file` parts before the text, as OpenAI's, and
   * the text's `sandbox:/mnt/data/<name>` mentions of files become `file_path` annotations. */
  made?: CodeOutputs;
  /** The files the answer cites, found from the markers in its text. */
  citations?: FileCitationAnnotation[];
}

export interface CodeOutputs {
  images: string[];
  files: CodeOutputFile[];
}

/** OpenAI's `file_path` annotations: each mention of a file the run's code wrote, by its sandbox path. */
export function filePathAnnotations(text: string, files: CodeOutputFile[]) {
  const annotations = files.flatMap((file) => {
    const path = `sandbox:/mnt/data/${file.name}`;
    const found = [];
    for (let at = text.indexOf(path); at >= 0; at = text.indexOf(path, at + path.length)) {
      const range = { start_index: at, end_index: at + path.length };
      found.push({ type: 'file_path' as const, text: path, ...range, file_path: { file_id: file.file_id } });
    }
    return found;
  });
  return annotations.sort((a, b) => a.start_index - b.start_index);
}

export function closedAnswer(
  { answer, text, status, usage, made, citations = [] }: ClosedAnswer,
  now: Date,
): Answer {
  const figures = (made?.images ?? []).map((fileId) => ({
    type: 'image_file' as const,
    image_file: { file_id: fileId },
  }));
  const annotations = [...citations, ...filePathAnnotations(text, made?.files ?? [])].sort(
    (a, b) => a.start_index - b.start_index,
  );
  const content = [...figures, { type: 'text' as const, text: { value: text, annotations } }];
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
  /** The last turn's model call, logged whatever became of the run. */
  usageLog: UsageRecord;
  answer: Answer | null;
  /** A tool step the turn opened but did not finish, closed (`unfinishedToolStep`). */
  toolStep?: RunStepRow | null;
  eventSeq: number;
  now: Date;
}

/**
 * The ending after a turn, one statement prepared once, whatever the turn left: the run's compare-and-set gates
 * closing the answer's message and step and an unfinished tool step (what the turn did not leave has a null id,
 * which matches no row) and touching the thread; the model call's usage row goes in regardless.
 */
const endRunStatement = preparedStatement('end_run', (db, name) => {
  const ended = db.$with('ended').as(
    db
      .update(runs)
      .set({
        status: slot('status'),
        completedAt: slot('now'),
        expiresAt: null,
        requiredAction: null,
        incompleteDetails: slot('incompleteDetails'),
        usage: slot('usage'),
        eventSeq: slot('eventSeq'),
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      // A run ends completed or incomplete from the same statuses.
      .where(and(eq(runs.id, slot('runId')), inArray(runs.status, allowedFrom('completed'))))
      .returning(),
  );
  const hasEnded = exists(db.select({ id: ended.id }).from(ended));
  const usageLog = db.$with('usage_log').as(
    db.insert(usageLogs).values({
      runId: slot('runId'),
      ownerId: slot('usage.ownerId'),
      model: slot('usage.model'),
      promptTokens: slot('usage.promptTokens'),
      completionTokens: slot('usage.completionTokens'),
      totalTokens: slot('usage.totalTokens'),
      costUsd: slot('usage.costUsd'),
      latencyMs: slot('usage.latencyMs'),
      firstTokenMs: slot('usage.firstTokenMs'),
    }),
  );
  const closedMessage = db.$with('closed_message').as(
    db
      .update(messages)
      .set({
        status: slot('message.status'),
        content: slot('message.content'),
        completedAt: slot('message.completedAt'),
        incompleteAt: slot('message.incompleteAt'),
        incompleteDetails: slot('message.incompleteDetails'),
      })
      .where(and(eq(messages.id, slot('message.id')), hasEnded)),
  );
  const closedStep = db.$with('closed_step').as(
    db
      .update(runSteps)
      .set({ status: slot('step.status'), completedAt: slot('step.completedAt'), usage: slot('step.usage') })
      .where(and(eq(runSteps.id, slot('step.id')), hasEnded)),
  );
  const closedToolStep = db.$with('closed_tool_step').as(
    db
      .update(runSteps)
      .set({
        status: slot('toolStep.status'),
        failedAt: slot('toolStep.failedAt'),
        lastError: slot('toolStep.lastError'),
      })
      .where(and(eq(runSteps.id, slot('toolStep.id')), hasEnded)),
  );
  const touchedThread = db.$with('touched_thread').as(
    db
      .update(threads)
      .set({ lastActivityAt: slot('now') })
      .where(and(eq(threads.id, slot('threadId')), hasEnded))
      .returning({ hasWaitingRuns: threads.hasWaitingRuns }),
  );
  return db
    .with(ended, usageLog, closedMessage, closedStep, closedToolStep, touchedThread)
    .select()
    .from(ended)
    .leftJoin(touchedThread, sql`true`)
    .prepare(name);
});

/** A run as its ending stored it, and whether its thread has a run waiting its turn (`releaseNextRun`). */
export interface EndedRun {
  run: RunRow;
  /**
   * Read from the thread's newest row by the ending's own update of it (which waits for the lock of a run being
   * written to wait), so a run written to wait while the ending ran is seen here.
   */
  threadHasWaitingRuns: boolean;
}

/**
 * Ends a run after a turn that called its model, one statement: the run's compare-and-set is the gate for closing
 * the answer and its step and touching the thread; the usage row goes in regardless. Answers the ended run, or null
 * when another actor had ended it first.
 */
export async function endRun(db: Db, run: RunRow, ending: RunEnding): Promise<EndedRun | null> {
  const { answer, toolStep } = ending;
  const usage = usageLogRow(run, ending.usageLog);
  const [row] = await endRunStatement(db).execute({
    runId: run.id,
    threadId: run.threadId,
    status: ending.status,
    now: ending.now,
    incompleteDetails: asJson(ending.incompleteDetails),
    usage: asJson(ending.usage),
    eventSeq: ending.eventSeq,
    'usage.ownerId': usage.ownerId,
    'usage.model': usage.model,
    'usage.promptTokens': usage.promptTokens,
    'usage.completionTokens': usage.completionTokens,
    'usage.totalTokens': usage.totalTokens,
    'usage.costUsd': usage.costUsd,
    'usage.latencyMs': usage.latencyMs,
    'usage.firstTokenMs': usage.firstTokenMs,
    'message.id': answer?.message.id ?? null,
    'message.status': answer?.message.status ?? null,
    'message.content': asJson(answer?.message.content),
    'message.completedAt': answer?.message.completedAt ?? null,
    'message.incompleteAt': answer?.message.incompleteAt ?? null,
    'message.incompleteDetails': asJson(answer?.message.incompleteDetails),
    'step.id': answer?.step.id ?? null,
    'step.status': answer?.step.status ?? null,
    'step.completedAt': answer?.step.completedAt ?? null,
    'step.usage': asJson(answer?.step.usage),
    'toolStep.id': toolStep?.id ?? null,
    'toolStep.status': toolStep?.status ?? null,
    'toolStep.failedAt': toolStep?.failedAt ?? null,
    'toolStep.lastError': asJson(toolStep?.lastError),
  });
  return endedRunOf(row);
}

/** An ending's row: the run it ended, and its thread's mark as the ending's update read it. */
function endedRunOf(
  row: { ended: RunRow; touched_thread: { hasWaitingRuns: boolean } | null } | undefined,
): EndedRun | null {
  return row ? { run: row.ended, threadHasWaitingRuns: row.touched_thread?.hasWaitingRuns ?? true } : null;
}

/**
 * Ends a run whose prompt was too long to call its model: incomplete, with nothing to close and no usage to log.
 * Null when another actor had ended it first.
 */
export async function endRunUncalled(
  db: Db,
  run: RunRow,
  ending: Pick<RunEnding, 'incompleteDetails' | 'usage' | 'eventSeq' | 'now'>,
): Promise<EndedRun | null> {
  const ended = db.$with('ended').as(
    db
      .update(runs)
      .set({
        status: 'incomplete',
        completedAt: ending.now,
        expiresAt: null,
        requiredAction: null,
        incompleteDetails: ending.incompleteDetails,
        usage: ending.usage,
        eventSeq: ending.eventSeq,
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where(and(eq(runs.id, run.id), inArray(runs.status, allowedFrom('incomplete'))))
      .returning(),
  );
  const touchedThread = db.$with('touched_thread').as(
    db
      .update(threads)
      .set({ lastActivityAt: ending.now })
      .where(and(eq(threads.id, run.threadId), exists(db.select({ id: ended.id }).from(ended))))
      .returning({ hasWaitingRuns: threads.hasWaitingRuns }),
  );
  const [row] = await db.with(ended, touchedThread).select().from(ended).leftJoin(touchedThread, sql`true`);
  return endedRunOf(row);
}

/** A new tool_calls step, in progress and without calls yet: they stream in, and `recordToolCalls` stores them. */
export function newToolStep(run: RunRow, now: Date): RunStepRow {
  return {
    id: newId('step'),
    runId: run.id,
    threadId: run.threadId,
    assistantId: run.assistantId,
    type: 'tool_calls',
    status: 'in_progress',
    stepDetails: { type: 'tool_calls', tool_calls: [] },
    lastError: null,
    usage: null,
    expiredAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: null,
    createdAt: now,
  };
}

/**
 * A tool step whose calls the model did not finish (it stopped at its token limit mid-call), as its run's ending
 * closes it.
 */
export function unfinishedToolStep(step: RunStepRow, now: Date): RunStepRow {
  const lastError = {
    code: 'server_error' as const,
    message: 'The model stopped before it finished its tool calls.',
  };
  return { ...step, status: 'failed', failedAt: now, lastError };
}

/**
 * Stores a turn's tool step as its first call begins (the call's deltas wait for it), closing the answer the turn
 * wrote before it in the same transaction.
 */
export async function openToolStep(db: Db, step: RunStepRow, answer: Answer | null): Promise<void> {
  await db.transaction(async (tx) => {
    if (answer) await closeAnswer(tx, answer);
    await tx.insert(runSteps).values(step);
  });
}

export interface ToolTurn {
  /** The step `openToolStep` stored when the calls began. */
  step: RunStepRow;
  calls: StepToolCall[];
  usage: UsageRecord;
  eventSeq: number;
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
 * Records a turn's tool calls: the run's usage and seq (while it is still in_progress), and the calls on the
 * tool_calls step the turn opened, which carries the turn's usage. Answers the step, or null when the run had moved
 * on.
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
    const [step] = await tx
      .update(runSteps)
      .set({ stepDetails: { type: 'tool_calls', tool_calls: turn.calls }, usage: turn.usage.usage })
      .where(and(eq(runSteps.id, turn.step.id), eq(runSteps.status, 'in_progress')))
      .returning();
    return step ?? null;
  });
}

const releaseStatement = preparedStatement('release_run', (db, name) =>
  db
    .update(runs)
    .set({ leaseOwner: null, leaseExpiresAt: null, jobId: slot('jobId') })
    .where(and(eq(runs.id, slot('runId')), eq(runs.leaseOwner, slot('owner'))))
    .prepare(name),
);

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
  await releaseStatement(db).execute({ runId, owner, jobId });
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

/**
 * Whether the thread is marked as having a run waiting its turn: a run written to wait marks it in its own
 * transaction, and `releaseWaitingRuns` clears the mark only once none waits.
 */
const waitingMarkStatement = preparedStatement('thread_waiting_mark', (db, name) =>
  db
    .select({ hasWaitingRuns: threads.hasWaitingRuns })
    .from(threads)
    .where(eq(threads.id, slot('threadId')))
    .prepare(name),
);

function isWaitingOn(threadId: string) {
  return and(eq(runs.threadId, threadId), eq(runs.status, 'queued'), isNotNull(runs.waitsFor));
}

/**
 * Moves a thread's waiting runs past the runs before them that have ended: a run that now has an unfinished run
 * ahead waits behind that one; a run with none is released (it waits for nothing, its job id is its own, and a
 * rollback removes the assistant messages and steps of the run it rolls back, in the same transaction). Called
 * after every ending of a run, after writing a run that waits, and by the sweeper. It takes the thread's lock, as
 * `insertRun` does, so a run written meanwhile either waits behind a run this sees or sees what this released.
 * Answers the released run, whose job the caller enqueues, or null.
 */
export async function releaseWaitingRuns(db: Db, threadId: string): Promise<RunRow | null> {
  const [thread] = await waitingMarkStatement(db).execute({ threadId });
  if (!thread?.hasWaitingRuns) return null;
  return db.transaction(async (tx) => {
    await tx.select({ id: threads.id }).from(threads).where(eq(threads.id, threadId)).for('update');
    const waiting = await tx.select().from(runs).where(isWaitingOn(threadId)).orderBy(asc(runs.id));
    let released: RunRow | null = null;
    let stillWaiting = false;
    for (const run of waiting) {
      const ahead = await firstUnfinished(tx, run.waitsFor);
      stillWaiting ||= ahead !== null;
      if (ahead === run.waitsFor) continue;
      if (ahead !== null) await tx.update(runs).set({ waitsFor: ahead }).where(eq(runs.id, run.id));
      else released = await releaseRun(tx, run);
    }
    if (!stillWaiting)
      await tx.update(threads).set({ hasWaitingRuns: false }).where(eq(threads.id, threadId));
    return released;
  });
}

/** The first run from `runId` back along the runs it waited for that has not ended; null when all have. */
async function firstUnfinished(tx: Tx, runId: string | null): Promise<string | null> {
  let current = runId;
  while (current !== null) {
    const [row] = await tx
      .select({ status: runs.status, waitsFor: runs.waitsFor })
      .from(runs)
      .where(eq(runs.id, current));
    if (!row) return null;
    if (!isTerminal(row.status)) return current;
    current = row.waitsFor;
  }
  return null;
}

async function releaseRun(tx: Tx, run: RunRow): Promise<RunRow | null> {
  const [released] = await tx
    .update(runs)
    .set({ waitsFor: null, jobId: run.id })
    .where(and(eq(runs.id, run.id), eq(runs.status, 'queued')))
    .returning();
  if (released?.rollsBack) {
    await tx
      .delete(messages)
      .where(and(eq(messages.runId, released.rollsBack), eq(messages.role, 'assistant')));
    await tx.delete(runSteps).where(eq(runSteps.runId, released.rollsBack));
  }
  return released ?? null;
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
  /** Waiting behind a run that has ended: their thread's waiting runs must move on. */
  stalled: RunRow[];
}

export async function findOrphans(
  db: Db,
  now: Date,
  options: { queuedBefore: Date; limit: number },
): Promise<Orphans> {
  const active = inArray(runs.status, ['queued', 'in_progress', 'requires_action', 'cancelling']);
  const ahead = alias(runs, 'ahead');
  const [expired, queued, unheld, stalled] = await Promise.all([
    db
      .select()
      .from(runs)
      .where(and(active, lt(runs.expiresAt, now)))
      .limit(options.limit),
    db
      .select()
      .from(runs)
      .where(and(eq(runs.status, 'queued'), isNull(runs.waitsFor), lt(runs.createdAt, options.queuedBefore)))
      .orderBy(asc(runs.id))
      .limit(options.limit),
    db
      .select()
      .from(runs)
      .where(and(inArray(runs.status, ['in_progress', 'cancelling']), isFreeAt(now)))
      .orderBy(asc(runs.id))
      .limit(options.limit),
    db
      .select()
      .from(runs)
      .where(
        and(
          eq(runs.status, 'queued'),
          isNotNull(runs.waitsFor),
          notExists(
            db
              .select({ id: ahead.id })
              .from(ahead)
              .where(and(eq(ahead.id, runs.waitsFor), inArray(ahead.status, [...activeStatuses]))),
          ),
        ),
      )
      .orderBy(asc(runs.id))
      .limit(options.limit),
  ]);
  return { expired, queued, unheld, stalled };
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

const completeToolCallsStatement = preparedStatement('complete_tool_calls', (db, name) =>
  db
    .update(runSteps)
    .set({ status: 'completed', completedAt: slot('now'), stepDetails: slot('stepDetails') })
    .where(and(eq(runSteps.id, slot('stepId')), eq(runSteps.status, 'in_progress')))
    .returning()
    .prepare(name),
);

/** Completes a tool step whose calls all have outputs; null when it was no longer open. */
export async function completeToolCalls(
  db: Db,
  stepId: string,
  calls: StepToolCall[],
  now: Date,
): Promise<RunStepRow | null> {
  const stepDetails = asJson({ type: 'tool_calls', tool_calls: calls });
  const [row] = await completeToolCallsStatement(db).execute({ stepId, now, stepDetails });
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

/** What the sandbox worker answered for one code_interpreter call. */
export interface SandboxExecution {
  callId: string;
  code: string;
  logs: string;
  isError: boolean;
  durationMs: number;
}

/**
 * Audits code_interpreter calls as the tool worker audits its tools, from what the sandbox worker answered (it holds
 * no database); a call recorded already keeps its row. Answers the calls recorded now.
 */
export async function recordSandboxExecutions(
  db: Db,
  run: Pick<RunRow, 'id' | 'ownerId'>,
  executions: SandboxExecution[],
  now: Date,
): Promise<string[]> {
  if (executions.length === 0) return [];
  const recorded = await db
    .insert(toolExecutions)
    .values(
      executions.map((execution) => ({
        callId: execution.callId,
        runId: run.id,
        ownerId: run.ownerId,
        tool: 'code_interpreter',
        arguments: { code: execution.code },
        status: execution.isError ? ('failed' as const) : ('succeeded' as const),
        output: execution.logs,
        error: execution.isError ? 'code_error' : null,
        startedAt: new Date(now.getTime() - execution.durationMs),
        finishedAt: now,
        durationMs: execution.durationMs,
      })),
    )
    .onConflictDoNothing()
    .returning({ callId: toolExecutions.callId });
  return recorded.map((row) => row.callId);
}

/** What the run's code_interpreter calls made, in the order they made it. */
export function codeOutputsOfRun(toolSteps: RunStepRow[]): CodeOutputs {
  const calls = toolSteps.flatMap((step) =>
    step.stepDetails.type === 'tool_calls' ? step.stepDetails.tool_calls : [],
  );
  return {
    images: calls.flatMap((call) => call.images ?? []),
    files: calls.flatMap((call) => call.files ?? []),
  };
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
