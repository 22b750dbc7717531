// The claim of a queued run, one statement: the run moves to in_progress, its tool steps and its thread's history
// come back with it, and, when it has no tools (its answer can only be text), its answer message and step are
// opened, so no write stands between the model's first token and its delta.

import { type Db, prepared, type RunRow, schema } from '@threadwork/shared';
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { newAnswer, type OpenedMessage, openedRows, rowFrom, slottedOpened } from './message-writes.js';
import { type RunContext, runContextFromJson, threadHistoryJson, toolStepsJson } from './run-store.js';

const { messages, runSteps, runs } = schema;

/** The claimed run with its tool steps and its thread's history as the claim found them. */
export interface ClaimedRun extends RunContext {
  /** The answer opened with the claim, for a run without tools; null when the first text opens it. */
  opened: OpenedMessage | null;
}

/** A run without tools: its answer is text, so the claim opens it. The claim's statement holds the same test. */
const answersWithText = (run: Pick<RunRow, 'tools'>) => run.tools.length === 0;

function claimStatement(db: Db, answer: ReturnType<typeof slottedOpened>) {
  return prepared(db, `claim_run ${answer.shape}`, (name) => {
    const claimed = db.$with('claimed').as(
      db
        .update(runs)
        .set({
          status: 'in_progress',
          // A run claimed again after tool outputs keeps the time it first started.
          startedAt: sql`coalesce(${runs.startedAt}, ${sql.param(sql.placeholder('now'), runs.startedAt)})`,
        })
        .where(and(eq(runs.id, sql.placeholder('runId')), eq(runs.status, 'queued')))
        .returning(),
    );
    const ofRun = {
      runId: sql`${claimed.id}`,
      threadId: sql`${claimed.threadId}`,
      assistantId: sql`${claimed.assistantId}`,
    };
    const withoutTools = sql`jsonb_array_length(${claimed.tools}) = 0`;
    // Foreign keys are checked at the end of the statement, after the claim.
    const openedStep = db
      .$with('opened_step')
      .as(
        db
          .insert(runSteps)
          .select(rowFrom(db, runSteps, { ...answer.step, ...ofRun }, claimed).where(withoutTools)),
      );
    const openedMessage = db
      .$with('opened_message')
      .as(
        db
          .insert(messages)
          .select(rowFrom(db, messages, { ...answer.message, ...ofRun }, claimed).where(withoutTools)),
      );
    const runFields = Object.fromEntries(
      Object.keys(getTableColumns(runs)).map((key) => [key, claimed[key as keyof RunRow]]),
    ) as { [K in keyof RunRow]: (typeof claimed)[K] };
    return (
      db
        .with(claimed, openedStep, openedMessage)
        // What the statement found: the answer it opens is not part of the history. (Drizzle leaves a CTE's columns
        // unqualified, which inside these subqueries would name the rows' own columns.)
        .select({
          run: runFields,
          toolSteps: toolStepsJson({ id: sql`claimed.id`, usage: sql`claimed.usage` }),
          history: threadHistoryJson(sql`claimed.thread_id`),
        })
        .from(claimed)
        .prepare(name)
    );
  });
}

/** Moves a queued run to in_progress (opening its answer when it has no tools); null when it was not queued. */
export async function claimRun(db: Db, runId: string, now: Date): Promise<ClaimedRun | null> {
  const answer = newAnswer(now);
  // The run's ids come from the claimed row.
  const slots = slottedOpened(answer);
  const [claimed] = await claimStatement(db, slots).execute({ ...slots.values, runId, now });
  if (!claimed) return null;
  const { run, toolSteps, history } = claimed;
  return {
    ...runContextFromJson(run, toolSteps, history),
    opened: answersWithText(run) ? openedRows(run, now, answer) : null,
  };
}
