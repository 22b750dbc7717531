// Data access for the run loop: load what the model needs, open and close messages and steps, record usage.

import {
  allowedFrom,
  type Db,
  type MessageRow,
  newId,
  prepared,
  type RunPatch,
  type RunRow,
  type RunStepRow,
  type StepToolCall,
  schema,
  slotted,
  type Usage,
} from '@threadwork/shared';
import { and, asc, eq, exists, getTableColumns, inArray, type SQL, type Subquery, sql } from 'drizzle-orm';
import type { PgTable, PgUpdateSetSource } from 'drizzle-orm/pg-core';

const { messages, runSteps, runs, usageLogs, threads } = schema;

function threadMessagesOfRun(db: Db) {
  return prepared(db, 'thread_messages', (name) => {
    const threadOfRun = db
      .select({ threadId: runs.threadId })
      .from(runs)
      .where(eq(runs.id, sql.placeholder('runId')));
    return db
      .select()
      .from(messages)
      .where(eq(messages.threadId, threadOfRun))
      .orderBy(asc(messages.id))
      .prepare(name);
  });
}

/** The messages of a run's thread, oldest first; by run id, so it can load while the run is being claimed. */
export function loadThreadMessages(db: Db, runId: string): Promise<MessageRow[]> {
  return threadMessagesOfRun(db).execute({ runId });
}

function runById(db: Db) {
  return prepared(db, 'run', (name) =>
    db
      .select()
      .from(runs)
      .where(eq(runs.id, sql.placeholder('runId')))
      .prepare(name),
  );
}

export async function loadRun(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await runById(db).execute({ runId });
  return row ?? null;
}

function claimOfQueuedRun(db: Db) {
  return prepared(db, 'claim_run', (name) =>
    db
      .update(runs)
      .set({
        status: 'in_progress',
        // A run claimed again after tool outputs keeps the time it first started.
        startedAt: sql`coalesce(${runs.startedAt}, ${sql.param(sql.placeholder('now'), runs.startedAt)})`,
      })
      .where(and(eq(runs.id, sql.placeholder('runId')), eq(runs.status, 'queued')))
      .returning()
      .prepare(name),
  );
}

/** Moves a queued run to in_progress; null when it was not queued (another actor had it). */
export async function claimRun(db: Db, runId: string, now: Date): Promise<RunRow | null> {
  const [row] = await claimOfQueuedRun(db).execute({ runId, now });
  return row ?? null;
}

function toolStepsOfRun(db: Db) {
  return prepared(db, 'tool_steps', (name) =>
    db
      .select()
      .from(runSteps)
      .where(and(eq(runSteps.runId, sql.placeholder('runId')), eq(runSteps.type, 'tool_calls')))
      .orderBy(asc(runSteps.id))
      .prepare(name),
  );
}

export function loadToolSteps(db: Db, runId: string): Promise<RunStepRow[]> {
  return toolStepsOfRun(db).execute({ runId });
}

export interface OpenedMessage {
  message: MessageRow;
  step: RunStepRow;
}

/** What an opened answer message and its step hold besides ids and time (fresh objects: rows are handed out). */
const openedMessageValues = () =>
  ({
    role: 'assistant',
    content: [],
    status: 'in_progress',
    attachments: [],
    metadata: {},
    incompleteDetails: null,
    completedAt: null,
    incompleteAt: null,
  }) satisfies Partial<MessageRow>;

const openedStepValues = () =>
  ({
    type: 'message_creation',
    status: 'in_progress',
    lastError: null,
    usage: null,
    expiredAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: null,
  }) satisfies Partial<RunStepRow>;

/** The values of an opened answer message and its step, with placeholders for what varies between turns. */
function openedPlaceholders() {
  const { placeholder } = sql;
  const run = {
    runId: placeholder('runId'),
    threadId: placeholder('threadId'),
    assistantId: placeholder('assistantId'),
  };
  return {
    step: {
      ...openedStepValues(),
      ...run,
      id: placeholder('stepId'),
      stepDetails: placeholder('stepDetails'),
      createdAt: placeholder('now'),
    },
    message: {
      ...openedMessageValues(),
      ...run,
      id: placeholder('messageId'),
      createdAt: placeholder('now'),
    },
  };
}

/** The rows an opened answer stores, with fresh ids. */
function openedRows(run: RunRow, now: Date): OpenedMessage {
  const ids = { runId: run.id, threadId: run.threadId, assistantId: run.assistantId };
  const message: MessageRow = { ...openedMessageValues(), ...ids, id: newId('message'), createdAt: now };
  const step: RunStepRow = {
    ...openedStepValues(),
    ...ids,
    id: newId('step'),
    stepDetails: { type: 'message_creation', message_creation: { message_id: message.id } },
    createdAt: now,
  };
  return { message, step };
}

/** The placeholder values of `openedPlaceholders` for `opened`. */
function openedParams({ message, step }: OpenedMessage) {
  return {
    runId: step.runId,
    threadId: step.threadId,
    assistantId: step.assistantId,
    messageId: message.id,
    stepId: step.id,
    stepDetails: step.stepDetails,
    now: step.createdAt,
  };
}

// Foreign keys are checked at the end of the statement, so the sibling inserts need no order.
function insertOpenedMessage(db: Db) {
  return prepared(db, 'open_message', (name) => {
    const values = openedPlaceholders();
    const insertStep = db.$with('inserted_step').as(db.insert(runSteps).values(values.step));
    return db.with(insertStep).insert(messages).values(values.message).prepare(name);
  });
}

/** Inserts the run's answer message and its message_creation step in one statement; answers the rows as stored. */
export async function openMessage(db: Db, run: RunRow, now: Date): Promise<OpenedMessage> {
  const opened = openedRows(run, now);
  await insertOpenedMessage(db).execute(openedParams(opened));
  return opened;
}

/**
 * The first write of a turn after tool outputs came back: completes the tool step and, in the same statement, opens
 * the answer as `openMessage` does. Nothing is written, and null answered, when the step was no longer open (another
 * delivery of the continuation completed it, or the run ended without it).
 */
export async function openMessageAfterToolStep(
  db: Db,
  run: RunRow,
  now: Date,
  toolStep: RunStepRow,
): Promise<OpenedMessage | null> {
  const opened = openedRows(run, now);
  const inserted = await insertOpenedMessageAfterToolStep(db).execute({
    ...openedParams(opened),
    toolStepId: toolStep.id,
    toolStepDetails: toolStep.stepDetails,
    toolStepCompletedAt: toolStep.completedAt,
  });
  return inserted.length === 1 ? opened : null;
}

function insertOpenedMessageAfterToolStep(db: Db) {
  return prepared(db, 'open_message_after_tool_step', (name) => {
    const { placeholder } = sql;
    const completed = db.$with('completed_tool_step').as(
      db
        .update(runSteps)
        .set({
          status: 'completed',
          completedAt: sql`${sql.param(placeholder('toolStepCompletedAt'), runSteps.completedAt)}`,
          stepDetails: sql`${sql.param(placeholder('toolStepDetails'), runSteps.stepDetails)}`,
        })
        .where(and(eq(runSteps.id, placeholder('toolStepId')), eq(runSteps.status, 'in_progress')))
        .returning({ id: runSteps.id }),
    );
    const values = openedPlaceholders();
    // Both rows are selected from the completed step: no completed step, no rows.
    const insertStep = db
      .$with('inserted_step')
      .as(db.insert(runSteps).select(rowFrom(db, runSteps, values.step, completed)));
    return db
      .with(completed, insertStep)
      .insert(messages)
      .select(rowFrom(db, messages, values.message, completed))
      .returning({ id: messages.id })
      .prepare(name);
  });
}

/** A SELECT of one row of `table` (every column, in the table's order) from each row of `source`. */
function rowFrom<T extends PgTable>(db: Db, table: T, values: Record<string, unknown>, source: Subquery) {
  const fields = Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, column]) => {
      const value = values[key];
      if (value === undefined) throw new Error(`${key}: no value for ${column.name}`);
      // A null stays literal: the JSON encoder would store it as the JSON value `null`.
      const expression = value === null ? sql`null` : sql`${sql.param(value, column)}`;
      return [key, expression.as(column.name)];
    }),
  ) as Record<keyof T['_']['columns'], SQL.Aliased>;
  return db.select(fields).from(source);
}

/** How a turn closes its answer message and the message_creation step that holds it. */
export interface MessageClosing {
  opened: OpenedMessage;
  text: string;
  outcome: 'completed' | 'incomplete';
  stepUsage: Usage | null;
  now: Date;
}

function messagePatch({ text, outcome, now }: MessageClosing): Partial<MessageRow> {
  const content = [{ type: 'text' as const, text: { value: text, annotations: [] } }];
  return outcome === 'completed'
    ? { status: 'completed', content, completedAt: now }
    : { status: 'incomplete', content, incompleteAt: now, incompleteDetails: { reason: 'max_tokens' } };
}

function stepPatch({ stepUsage, now }: MessageClosing): Partial<RunStepRow> {
  return { status: 'completed', completedAt: now, usage: stepUsage };
}

/** A closing as a prepared statement takes it: the writes with placeholders, their values, and their shape. */
function slottedClosing(closing: MessageClosing) {
  const message = slotted(messages, 'message', messagePatch(closing));
  const step = slotted(runSteps, 'step', stepPatch(closing));
  return {
    write: {
      messageId: slot('messageId'),
      stepId: slot('stepId'),
      message: message.columns,
      step: step.columns,
    },
    values: {
      ...message.values,
      ...step.values,
      messageId: closing.opened.message.id,
      stepId: closing.opened.step.id,
    },
    shape: `${message.shape} ${step.shape}`,
  };
}

/** The closed rows as the closing statement stores them (the opened rows are what was inserted). */
export function closedRows(closing: MessageClosing): OpenedMessage {
  return {
    message: { ...closing.opened.message, ...messagePatch(closing) },
    step: { ...closing.opened.step, ...stepPatch(closing) },
  };
}

/** What closing a message writes: the two rows' ids and patches, as a prepared statement's slots. */
interface ClosingWrite {
  messageId: SQL;
  stepId: SQL;
  message: Record<string, unknown>;
  step: Record<string, unknown>;
}

/** The closing as two CTEs of a larger statement; `gate`, when given, must hold for them to write. */
function closeMessageWrites(db: Db, closing: ClosingWrite, gate?: SQL) {
  return [
    db.$with('closed_message').as(
      db
        .update(messages)
        .set(closing.message)
        .where(and(eq(messages.id, closing.messageId), gate)),
    ),
    db.$with('closed_step').as(
      db
        .update(runSteps)
        .set(closing.step)
        .where(and(eq(runSteps.id, closing.stepId), gate)),
    ),
  ];
}

export interface UsageRecord {
  run: RunRow;
  model: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
}

function usageLogValues(record: UsageRecord) {
  return {
    runId: record.run.id,
    ownerId: record.run.ownerId,
    model: record.model,
    promptTokens: record.usage.prompt_tokens,
    completionTokens: record.usage.completion_tokens,
    totalTokens: record.usage.total_tokens,
    costUsd: record.costUsd.toFixed(8),
    latencyMs: Math.round(record.latencyMs),
    firstTokenMs: record.firstTokenMs === null ? null : Math.round(record.firstTokenMs),
  };
}

export interface ToolTurn {
  run: RunRow;
  calls: StepToolCall[];
  usageLog: UsageRecord;
  closing: MessageClosing | null;
}

/**
 * A turn that made tool calls, in one statement: its usage row, the closed answer message (when it wrote one),
 * the run's usage so far and the new tool_calls step (which also carries the turn's usage); answers that step.
 */
export async function openToolTurn(db: Db, turn: ToolTurn): Promise<RunStepRow> {
  const usageLog = slotted(usageLogs, 'usage_log', usageLogValues(turn.usageLog));
  const closing = turn.closing && slottedClosing(turn.closing);
  const runUsage = slotted(runs, 'run', { usage: turn.run.usage });
  const step = slotted(runSteps, 'tool_step', {
    id: newId('step'),
    runId: turn.run.id,
    threadId: turn.run.threadId,
    assistantId: turn.run.assistantId,
    type: 'tool_calls',
    status: 'in_progress',
    stepDetails: { type: 'tool_calls', tool_calls: turn.calls },
    usage: turn.usageLog.usage,
  });
  const shape = [usageLog.shape, closing?.shape, runUsage.shape, step.shape];
  const statement = prepared(db, `open_tool_turn ${shape.join(' ')}`, (name) => {
    const writes = [
      db.$with('usage_log').as(db.insert(usageLogs).values(usageLog.columns)),
      ...(closing ? closeMessageWrites(db, closing.write) : []),
      db.$with('run_usage').as(
        db
          .update(runs)
          .set(runUsage.columns as PgUpdateSetSource<typeof runs>)
          .where(eq(runs.id, slot('runId'))),
      ),
    ];
    return db
      .with(...writes)
      .insert(runSteps)
      .values(step.columns)
      .returning()
      .prepare(name);
  });
  const [row] = await statement.execute({
    ...usageLog.values,
    ...closing?.values,
    ...runUsage.values,
    ...step.values,
    runId: turn.run.id,
  });
  if (!row) throw new Error('insert returned no row');
  return row;
}

export interface TurnEnding {
  run: RunRow;
  status: 'completed' | 'incomplete';
  patch: RunPatch;
  /** Null when the model was not called. */
  usageLog: UsageRecord | null;
  /** Null when the turn wrote no message. */
  closing: MessageClosing | null;
  now: Date;
}

/**
 * Ends a run after its last turn in one statement. The run's compare-and-set move (as `transitionRun` makes it)
 * is the gate: the usage row, the closed message and step and the thread's activity are written only if it moved
 * the run. Answers the ended run, or null when another actor had moved it (and nothing was written).
 */
export async function endRunAfterTurn(db: Db, ending: TurnEnding): Promise<RunRow | null> {
  const run = slotted(runs, 'run', { ...ending.patch, status: ending.status });
  const closing = ending.closing && slottedClosing(ending.closing);
  const usageLog = ending.usageLog && usageLogValues(ending.usageLog);
  const shape = [ending.status, run.shape, closing?.shape, usageLog && 'usage_log'];
  const statement = prepared(db, `end_turn ${shape.join(' ')}`, (name) =>
    endTurnStatement(db, {
      status: ending.status,
      run: run.columns,
      closing: closing?.write ?? null,
      hasUsageLog: usageLog !== null,
    }).prepare(name),
  );
  const [ended] = await statement.execute({
    ...usageLog,
    ...run.values,
    ...closing?.values,
    runId: ending.run.id,
    threadId: ending.run.threadId,
    now: ending.now,
  });
  return ended ?? null;
}

const slot = (name: string) => sql`${sql.placeholder(name)}`;

interface EndTurnShape {
  status: TurnEnding['status'];
  run: Record<string, unknown>;
  closing: ClosingWrite | null;
  hasUsageLog: boolean;
}

function endTurnStatement(db: Db, shape: EndTurnShape) {
  const ended = endedRun(db, shape);
  const hasEnded = exists(db.select({ id: ended.id }).from(ended));
  const writes = [
    ...(shape.hasUsageLog
      ? [db.$with('usage_log').as(db.insert(usageLogs).select(usageLogOf(db, ended)))]
      : []),
    ...(shape.closing ? closeMessageWrites(db, shape.closing, hasEnded) : []),
    db.$with('touched_thread').as(
      db
        .update(threads)
        .set({ lastActivityAt: sql`${sql.param(sql.placeholder('now'), threads.lastActivityAt)}` })
        .where(and(eq(threads.id, slot('threadId')), hasEnded)),
    ),
  ];
  return db
    .with(ended, ...writes)
    .select()
    .from(ended);
}

function endedRun(db: Db, shape: EndTurnShape) {
  return db.$with('ended').as(
    db
      .update(runs)
      .set(shape.run)
      .where(and(eq(runs.id, slot('runId')), inArray(runs.status, allowedFrom(shape.status))))
      .returning(),
  );
}

/** The usage row as a SELECT over the ended run, so no run moved means no row (its defaults spelled out). */
function usageLogOf(db: Db, ended: ReturnType<typeof endedRun>) {
  const value = <T>(name: keyof ReturnType<typeof usageLogValues>, column: string) =>
    sql<T>`${sql.placeholder(name)}`.as(column);
  return db
    .select({
      id: sql<number>`nextval('usage_logs_id_seq')`.as('id'),
      runId: ended.id,
      ownerId: ended.ownerId,
      model: value<string>('model', 'model'),
      promptTokens: value<number>('promptTokens', 'prompt_tokens'),
      completionTokens: value<number>('completionTokens', 'completion_tokens'),
      totalTokens: value<number>('totalTokens', 'total_tokens'),
      costUsd: value<string>('costUsd', 'cost_usd'),
      latencyMs: value<number>('latencyMs', 'latency_ms'),
      firstTokenMs: value<number | null>('firstTokenMs', 'first_token_ms'),
      createdAt: sql<Date>`now()`.as('created_at'),
    })
    .from(ended);
}

export async function setStepCalls(
  db: Pick<Db, 'update'>,
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

/** A tool step whose calls all have their outputs, as completing it stores it. */
export function completedToolStep(step: RunStepRow, calls: StepToolCall[], now: Date): RunStepRow {
  return {
    ...step,
    status: 'completed',
    completedAt: now,
    stepDetails: { type: 'tool_calls', tool_calls: calls },
  };
}

/** Stores a completed tool step (as `completedToolStep` made it); false when the step was no longer open. */
export async function completeToolStep(db: Pick<Db, 'update'>, completed: RunStepRow): Promise<boolean> {
  const rows = await db
    .update(runSteps)
    .set({ status: 'completed', completedAt: completed.completedAt, stepDetails: completed.stepDetails })
    .where(and(eq(runSteps.id, completed.id), eq(runSteps.status, 'in_progress')))
    .returning({ id: runSteps.id });
  return rows.length === 1;
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  return {
    prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
    completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
    total_tokens: (a?.total_tokens ?? 0) + b.total_tokens,
  };
}

/** Keeps the text streamed so far on a message the run is about to end early. */
export async function saveMessageText(
  db: Pick<Db, 'update'>,
  messageId: string,
  text: string,
): Promise<void> {
  const content = [{ type: 'text' as const, text: { value: text, annotations: [] } }];
  await db.update(messages).set({ content }).where(eq(messages.id, messageId));
}
