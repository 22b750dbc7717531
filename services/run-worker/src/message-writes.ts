// Writes of a turn's answer message: opened with its step in one statement, closed as part of the turn's last one.

import {
  type Db,
  type MessageRow,
  newId,
  prepared,
  type RunRow,
  type RunStepRow,
  schema,
  slotted,
  type Usage,
} from '@threadwork/shared';
import { and, eq, getTableColumns, type SQL, type Subquery, sql } from 'drizzle-orm';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import { textContent, toolStepCompletion, toolStepCompletionParams } from './run-store.js';

const { messages, runSteps } = schema;

/** A placeholder in a prepared statement's SQL. */
export const slot = (name: string) => sql`${sql.placeholder(name)}`;

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

/** What an opened answer stores besides its run's ids: fresh ids for the message and its step, and the time. */
export function newAnswer(now: Date) {
  const messageId = newId('message');
  return {
    message: { ...openedMessageValues(), id: messageId, createdAt: now },
    step: {
      ...openedStepValues(),
      id: newId('step'),
      stepDetails: { type: 'message_creation', message_creation: { message_id: messageId } },
      createdAt: now,
    },
  } satisfies { message: Partial<MessageRow>; step: Partial<RunStepRow> };
}

/** The rows an opened answer stores for `run` (with fresh ids unless given). */
export function openedRows(run: RunRow, now: Date, answer = newAnswer(now)): OpenedMessage {
  const ids = { runId: run.id, threadId: run.threadId, assistantId: run.assistantId };
  return { message: { ...answer.message, ...ids }, step: { ...answer.step, ...ids } };
}

/**
 * An opened answer as prepared statements take it: its rows (or the part of them not taken from elsewhere) with
 * placeholders, their values, and their shape.
 */
export function slottedOpened({ message, step }: { message: object; step: object }) {
  const slottedMessage = slotted(messages, 'message', message);
  const slottedStep = slotted(runSteps, 'step', step);
  return {
    get message() {
      return slottedMessage.columns;
    },
    get step() {
      return slottedStep.columns;
    },
    values: { ...slottedMessage.values, ...slottedStep.values },
    shape: `${slottedMessage.shape} ${slottedStep.shape}`,
  };
}

// Foreign keys are checked at the end of the statement, so the sibling inserts need no order.
function insertOpenedMessage(db: Db, rows: ReturnType<typeof slottedOpened>) {
  return prepared(db, `open_message ${rows.shape}`, (name) => {
    const insertStep = db.$with('inserted_step').as(db.insert(runSteps).values(rows.step));
    return db.with(insertStep).insert(messages).values(rows.message).prepare(name);
  });
}

/** Inserts the run's answer message and its message_creation step in one statement; answers the rows as stored. */
export async function openMessage(db: Db, run: RunRow, now: Date): Promise<OpenedMessage> {
  const opened = openedRows(run, now);
  const rows = slottedOpened(opened);
  await insertOpenedMessage(db, rows).execute(rows.values);
  return opened;
}

/** Deletes an opened answer that was never announced, with its step (both only while still in progress). */
export async function discardAnswer(db: Db, { message, step }: OpenedMessage): Promise<void> {
  const statement = prepared(db, 'discard_answer', (name) => {
    const droppedStep = db
      .$with('dropped_step')
      .as(
        db
          .delete(runSteps)
          .where(and(eq(runSteps.id, sql.placeholder('stepId')), eq(runSteps.status, 'in_progress'))),
      );
    return db
      .with(droppedStep)
      .delete(messages)
      .where(and(eq(messages.id, sql.placeholder('messageId')), eq(messages.status, 'in_progress')))
      .prepare(name);
  });
  await statement.execute({ messageId: message.id, stepId: step.id });
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
  const rows = slottedOpened(opened);
  const inserted = await insertOpenedMessageAfterToolStep(db, rows).execute({
    ...rows.values,
    ...toolStepCompletionParams(toolStep),
  });
  return inserted.length === 1 ? opened : null;
}

function insertOpenedMessageAfterToolStep(db: Db, rows: ReturnType<typeof slottedOpened>) {
  return prepared(db, `open_message_after_tool_step ${rows.shape}`, (name) => {
    const completed = db.$with('completed_tool_step').as(toolStepCompletion(db));
    // Both rows are selected from the completed step: no completed step, no rows.
    const insertStep = db
      .$with('inserted_step')
      .as(db.insert(runSteps).select(rowFrom(db, runSteps, rows.step, completed)));
    return db
      .with(completed, insertStep)
      .insert(messages)
      .select(rowFrom(db, messages, rows.message, completed))
      .returning({ id: messages.id })
      .prepare(name);
  });
}

/** A SELECT of one row of `table` (every column, in the table's order, as slotted) from each row of `source`. */
export function rowFrom<T extends PgTable>(db: Db, table: T, columns: PgInsertValue<T>, source: Subquery) {
  const slots = columns as Record<string, SQL | null | undefined>;
  const fields = Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, column]) => {
      const value = slots[key];
      if (value === undefined) throw new Error(`${key}: no value for ${column.name}`);
      // A null stays literal: the JSON encoder would store it as the JSON value `null`.
      return [key, (value ?? sql`null`).as(column.name)];
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
  const content = textContent(text);
  return outcome === 'completed'
    ? { status: 'completed', content, completedAt: now }
    : { status: 'incomplete', content, incompleteAt: now, incompleteDetails: { reason: 'max_tokens' } };
}

function stepPatch({ stepUsage, now }: MessageClosing): Partial<RunStepRow> {
  return { status: 'completed', completedAt: now, usage: stepUsage };
}

/** A closing as a prepared statement takes it: the writes with placeholders, their values, and their shape. */
export function slottedClosing(closing: MessageClosing) {
  const message = slotted(messages, 'message', messagePatch(closing));
  const step = slotted(runSteps, 'step', stepPatch(closing));
  return {
    get write(): ClosingWrite {
      return {
        messageId: slot('messageId'),
        stepId: slot('stepId'),
        message: message.columns,
        step: step.columns,
      };
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
export interface ClosingWrite {
  messageId: SQL;
  stepId: SQL;
  message: Record<string, unknown>;
  step: Record<string, unknown>;
}

/** The closing as two CTEs of a larger statement; `gate`, when given, must hold for them to write. */
export function closeMessageWrites(db: Db, closing: ClosingWrite, gate?: SQL) {
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
