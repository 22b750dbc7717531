// The claim of a queued run and the read a continuation starts from, against real Postgres: one winner, the first
// start time kept on a second claim, the answer of a run without tools opened by the same statement, and the rows
// that come back inside JSON exactly as a plain select reads them.
import { schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRun } from '../src/claim-writes.js';
import { loadRunContext } from '../src/run-store.js';
import { type Harness, startHarness } from './support/harness.js';
import { insertQueuedRun, insertToolStep } from './support/rows.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('claim-run-test');
});

afterAll(async () => {
  await harness?.close();
});

const LIST_TABLES = [{ type: 'list_tables' as const }];
/** A client function call of a tool step, answered with `output` (null: not yet). */
function lookupCall(output: string | null) {
  return { id: 'call_1', type: 'function' as const, function: { name: 'lookup', arguments: '{}', output } };
}

/** A run with tool steps has had a model turn, whose usage it holds. */
const AFTER_A_TOOL_TURN = {
  tools: LIST_TABLES,
  usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
};

describe('claimRun', () => {
  it('moves a queued run to in_progress once; a second claim finds nothing to take and opens nothing', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const claims = await Promise.all([claimRun(db, runId, new Date()), claimRun(db, runId, new Date())]);
    const won = claims.filter((claim) => claim !== null);
    expect(won).toHaveLength(1);
    expect(won[0]?.run.status).toBe('in_progress');
    const answers = await db.select().from(schema.messages).where(eq(schema.messages.runId, runId));
    expect(answers.map((message) => message.id)).toEqual([won[0]?.opened?.message.id]);
  });

  it('keeps the time a run first started when it is claimed again after tool outputs', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { tools: LIST_TABLES });
    const first = new Date('2026-11-25T10:00:00.123Z');
    expect((await claimRun(db, runId, first))?.run.startedAt).toEqual(first);
    await db.update(schema.runs).set({ status: 'queued' }).where(eq(schema.runs.id, runId));
    const again = await claimRun(db, runId, new Date('2026-11-25T10:00:05.456Z'));
    expect(again?.run.startedAt).toEqual(first);
  });

  it('opens the answer message and its step of a run without tools, as stored', async () => {
    const { db } = harness.runtime;
    const queued = await insertQueuedRun(db);
    const claimed = await claimRun(db, queued.runId, new Date('2026-11-25T11:00:00.000Z'));
    const opened = claimed?.opened;
    expect(opened?.message).toMatchObject({
      runId: queued.runId,
      threadId: queued.threadId,
      assistantId: queued.assistantId,
      role: 'assistant',
      status: 'in_progress',
      content: [],
    });
    const [message] = await db.select().from(schema.messages).where(eq(schema.messages.runId, queued.runId));
    expect(message).toEqual(opened?.message);
    const [step] = await db.select().from(schema.runSteps).where(eq(schema.runSteps.runId, queued.runId));
    expect(step).toEqual(opened?.step);
    expect(step?.stepDetails).toEqual({
      type: 'message_creation',
      message_creation: { message_id: message?.id },
    });
  });

  it('opens nothing for a run with tools: its first turn may call them instead', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { tools: LIST_TABLES });
    expect((await claimRun(db, runId, new Date()))?.opened).toBeNull();
    expect(await db.select().from(schema.messages).where(eq(schema.messages.runId, runId))).toEqual([]);
    expect(await db.select().from(schema.runSteps).where(eq(schema.runSteps.runId, runId))).toEqual([]);
  });

  it('answers the history of the run’s thread as stored, without the answer it opens', async () => {
    const { db } = harness.runtime;
    const { runId, threadId } = await insertQueuedRun(db);
    const claimed = await claimRun(db, runId, new Date());
    const stored = await db.select().from(schema.messages).where(eq(schema.messages.threadId, threadId));
    expect(stored).toHaveLength(2);
    expect(claimed?.history).toEqual(stored.filter((message) => message.runId === null));
    expect(claimed?.history.map((message) => message.role)).toEqual(['user']);
  });

  it('answers the run’s tool steps as stored, oldest first, when it is claimed again after tool outputs', async () => {
    const { db } = harness.runtime;
    const queued = await insertQueuedRun(db, AFTER_A_TOOL_TURN);
    const call = lookupCall('ok');
    const first = await insertToolStep(db, queued, [call]);
    const second = await insertToolStep(db, queued, [{ ...call, id: 'call_2' }]);
    const claimed = await claimRun(db, queued.runId, new Date());
    const stored = await db.select().from(schema.runSteps).where(eq(schema.runSteps.runId, queued.runId));
    expect(claimed?.toolSteps.map((step) => step.id)).toEqual([first, second]);
    expect(claimed?.toolSteps).toEqual([first, second].map((id) => stored.find((step) => step.id === id)));
  });
});

describe('loadRunContext', () => {
  it('reads a run with its tool steps and its thread’s history in one statement', async () => {
    const { db } = harness.runtime;
    const queued = await insertQueuedRun(db, AFTER_A_TOOL_TURN);
    const stepId = await insertToolStep(db, queued, [lookupCall(null)]);
    const context = await loadRunContext(db, queued.runId);
    const [run] = await db.select().from(schema.runs).where(eq(schema.runs.id, queued.runId));
    const history = await db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.threadId, queued.threadId));
    const steps = await db.select().from(schema.runSteps).where(eq(schema.runSteps.id, stepId));
    expect(context).toEqual({ run, toolSteps: steps, history });
    expect(await loadRunContext(db, 'run_missing')).toBeNull();
  });
});
