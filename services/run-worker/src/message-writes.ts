// Writes of a turn's answer message: opened with its step in one statement, closed as part of the turn's last one;
// an answer that arrived whole is written only by the turn's last statement, already closed.

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

/** The rows of a new answer, as opened, with fresh ids (not yet written). */
export function openedRows(run: RunRow, now: Date): OpenedMessage {
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

/** An opened answer as prepared statements take it: its rows with placeholders, their values, and their shape. */
function slottedOpened({ message, step }: OpenedMessage) {
  const slottedMessage = slotted(messages, 'message', message);
  const slottedStep = slotted(runSteps, 'step', step);
  return {
    message: slottedMessage.columns,
    step: slottedStep.columns,
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

/** Inserts the run's answer message and its message_creation step (as `openedRows` made them) in one statement. */
export async function openMessage(db: Db, opened: OpenedMessage): Promise<void> {
  const rows = slottedOpened(opened);
  await insertOpenedMessage(db, rows).execute(rows.values);
}

/**
 * The first write of a turn after tool outputs came back: completes the tool step and, in the same statement, opens
 * the answer as `openMessage` does. Nothing is written, and null answered, when the step was no longer open (another
 * delivery of the continuation completed it, or the run ended without it).
 */
export async function openMessageAfterToolStep(
  db: Db,
  opened: OpenedMessage,
  toolStep: RunStepRow,
): Promise<boolean> {
  const rows = slottedOpened(opened);
  const inserted = await insertOpenedMessageAfterToolStep(db, rows).execute({
    ...rows.values,
    ...toolStepCompletionParams(toolStep),
  });
  return inserted.length === 1;
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
function rowFrom<T extends PgTable>(db: Db, table: T, columns: PgInsertValue<T>, source: Subquery) {
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
  /** Whether the opened rows were written (false: the answer arrived whole, and is written closed). */
  written: boolean;
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
export function slottedClosing(closing: MessageClosing): {
  write: ClosingWrite;
  values: Record<string, unknown>;
  shape: string;
} {
  if (!closing.written) {
    const closed = closedRows(closing);
    const message = slotted(messages, 'message', closed.message);
    const step = slotted(runSteps, 'step', closed.step);
    return {
      write: { kind: 'insert', message: message.columns, step: step.columns },
      values: { ...message.values, ...step.values },
      shape: `insert ${message.shape} ${step.shape}`,
    };
  }
  const message = slotted(messages, 'message', messagePatch(closing));
  const step = slotted(runSteps, 'step', stepPatch(closing));
  return {
    write: {
      kind: 'update',
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
    shape: `update ${message.shape} ${step.shape}`,
  };
}

/** The closed rows as the closing statement stores them (the opened rows are what was inserted). */
export function closedRows(closing: MessageClosing): OpenedMessage {
  return {
    message: { ...closing.opened.message, ...messagePatch(closing) },
    step: { ...closing.opened.step, ...stepPatch(closing) },
  };
}

/** What closing a message writes, as a prepared statement's slots: the two rows' patches, or the rows themselves. */
export type ClosingWrite =
  | {
      kind: 'update';
      messageId: SQL;
      stepId: SQL;
      message: Record<string, unknown>;
      step: Record<string, unknown>;
    }
  | { kind: 'insert'; message: PgInsertValue<typeof messages>; step: PgInsertValue<typeof runSteps> };

/** A condition the closing writes wait on: `holds` as SQL, and a CTE with one row when it holds. */
export interface ClosingGate {
  holds: SQL;
  row: Subquery;
}

/** The closing as two CTEs of a larger statement; `gate`, when given, must hold for them to write. */
export function closeMessageWrites(db: Db, closing: ClosingWrite, gate?: ClosingGate) {
  if (closing.kind === 'insert') {
    return [
      db
        .$with('closed_message')
        .as(
          gate
            ? db.insert(messages).select(rowFrom(db, messages, closing.message, gate.row))
            : db.insert(messages).values(closing.message),
        ),
      db
        .$with('closed_step')
        .as(
          gate
            ? db.insert(runSteps).select(rowFrom(db, runSteps, closing.step, gate.row))
            : db.insert(runSteps).values(closing.step),
        ),
    ];
  }
  return [
    db.$with('closed_message').as(
      db
        .update(messages)
        .set(closing.message)
        .where(and(eq(messages.id, closing.messageId), gate?.holds)),
    ),
    db.$with('closed_step').as(
      db
        .update(runSteps)
        .set(closing.step)
        .where(and(eq(runSteps.id, closing.stepId), gate?.holds)),
    ),
  ];
}
