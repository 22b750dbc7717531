// Runs that wait their turn on a busy thread (multitask_strategy), against real Postgres and Redis: how a run joins
// the thread, how endings move the waiting runs on, what a waiting run's history is, and the sweeper's release.
import {
  claimRun,
  type EarlyEnding,
  endRun,
  insertRun,
  loadTurnContext,
  type MultitaskStrategy,
  type NewRunEvent,
  newAnswer,
  newId,
  openAnswer,
  type RunRow,
  releaseWaitingRuns,
  schema,
  toRunObject,
  writeEarlyEnding,
} from '@threadwork/shared';
import { runRow, userMessageRow } from '@threadwork/testing';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepRuns } from '../src/recovery.js';
import { type Harness, startHarness, storedRows } from './support/harness.js';
import { insertQueuedRun, type QueuedRun } from './support/rows.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('waiting-runs-test');
});

afterAll(async () => {
  await harness?.close();
});

const now = new Date();

/** A run written on `thread` the way the API writes one, with one user message. */
async function sendRun(thread: QueuedRun, strategy: MultitaskStrategy, text = 'more') {
  const id = newId('run');
  const row = runRow({
    id,
    threadId: thread.threadId,
    ownerId: thread.ownerId,
    assistantId: thread.assistantId,
    status: 'queued',
    startedAt: null,
    jobId: id,
    createdAt: now,
  });
  const message = userMessageRow(text, {
    id: newId('message'),
    threadId: thread.threadId,
    createdAt: now,
    completedAt: now,
  });
  return insertRun(
    harness.runtime.db,
    row,
    { touch: { id: thread.threadId, now, owner: thread.ownerId } },
    [message],
    null,
    strategy,
  );
}

async function written(thread: QueuedRun, strategy: MultitaskStrategy, text?: string): Promise<RunRow> {
  const result = await sendRun(thread, strategy, text);
  if (!('run' in result)) throw new Error(`refused: ${result.refused}`);
  return result.run;
}

async function end(runId: string, ending: EarlyEnding = { status: 'cancelled' }) {
  return writeEarlyEnding(harness.runtime.db, runId, ending, {
    from: ['queued', 'in_progress'],
    now,
    seqFloor: 0,
    streamedText: async () => '',
    eventCount: () => 1,
  });
}

async function runOf(runId: string): Promise<RunRow> {
  const { run } = await storedRows(harness.runtime, runId);
  if (!run) throw new Error(`no run ${runId}`);
  return run;
}

describe('a run written while the thread has one', () => {
  it('is refused with reject by the one-active-run index, writing nothing', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const messagesOnThread = () =>
      harness.runtime.db
        .select({ id: schema.messages.id })
        .from(schema.messages)
        .where(eq(schema.messages.threadId, thread.threadId));
    const before = await messagesOnThread();
    await expect(sendRun(thread, 'reject')).rejects.toMatchObject({
      cause: { code: '23505', constraint: 'runs_one_active_per_thread_idx' },
    });
    const onThread = await harness.runtime.db
      .select({ id: schema.runs.id })
      .from(schema.runs)
      .where(eq(schema.runs.threadId, thread.threadId));
    expect(onThread.map((row) => row.id)).toEqual([thread.runId]);
    expect(await messagesOnThread()).toEqual(before);
  });

  it('waits behind the last run with enqueue, without a job, and is refused a second head by the index', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const second = await written(thread, 'enqueue');
    const third = await written(thread, 'enqueue');
    expect(second).toMatchObject({ waitsFor: thread.runId, jobId: null, rollsBack: null });
    expect(third).toMatchObject({ waitsFor: second.id, jobId: null });
    await expect(
      harness.runtime.db.update(schema.runs).set({ waitsFor: null }).where(eq(schema.runs.id, third.id)),
    ).rejects.toThrow();
  });

  it('names the runs it supersedes, last first, with interrupt and rollback; rollback remembers the running one', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const waiting = await written(thread, 'enqueue');
    const result = await sendRun(thread, 'rollback');
    expect(result).toMatchObject({
      run: { waitsFor: waiting.id, rollsBack: thread.runId },
      supersedes: [waiting.id, thread.runId],
    });
  });
});

describe('releaseWaitingRuns', () => {
  it('releases nothing while the run ahead is unfinished, then the next run once it ends', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const second = await written(thread, 'enqueue');
    const third = await written(thread, 'enqueue');
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toBeNull();
    await end(thread.runId);
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toMatchObject({
      id: second.id,
      waitsFor: null,
      jobId: second.id,
    });
    expect(await runOf(third.id)).toMatchObject({ waitsFor: second.id });
  });

  it('moves a run whose predecessor was cancelled while waiting up behind the run before it', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const second = await written(thread, 'enqueue');
    const third = await written(thread, 'enqueue');
    await end(second.id);
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toBeNull();
    expect(await runOf(third.id)).toMatchObject({ status: 'queued', waitsFor: thread.runId });
    await end(thread.runId);
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toMatchObject({ id: third.id });
  });

  it('with rollback, removes the rolled-back run’s assistant messages and steps as it releases the new run', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const first = await runOf(thread.runId);
    await openAnswer(harness.runtime.db, newAnswer(first, now));
    const next = await written(thread, 'rollback', 'forget that');
    await end(thread.runId);
    await releaseWaitingRuns(harness.runtime.db, thread.threadId);
    const rolledBack = await storedRows(harness.runtime, thread.runId);
    expect(rolledBack.messages).toEqual([]);
    expect(rolledBack.steps).toEqual([]);
    expect(await runOf(next.id)).toMatchObject({ waitsFor: null, rollsBack: thread.runId });
    const users = await harness.runtime.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.threadId, thread.threadId));
    expect(users.map((row) => row.role)).toEqual(['user', 'user']);
  });
});

describe('the history of a run that waited', () => {
  it('ends at its own message: messages of runs queued behind it are left out, earlier answers kept', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    // As the API writes a run: its history ends after the messages written with it.
    await harness.runtime.db
      .update(schema.runs)
      .set({ historyUntil: newId('message') })
      .where(eq(schema.runs.id, thread.runId));
    const second = await written(thread, 'enqueue', 'second');
    await written(thread, 'enqueue', 'third');
    const first = await runOf(thread.runId);
    const answer = newAnswer(first, now);
    await openAnswer(harness.runtime.db, answer);
    const firstContext = await loadTurnContext(harness.runtime.db, first);
    expect(firstContext.history.map((row) => row.role)).toEqual(['user', 'assistant']);
    const secondContext = await loadTurnContext(harness.runtime.db, second);
    expect(secondContext.history.map((row) => row.id)).toContain(answer.message.id);
    expect(secondContext.history).toHaveLength(3);
    expect(secondContext.turnOf.get(second.id)).toBe(second.historyUntil);
  });
});

describe('the sweeper', () => {
  it('releases and enqueues a run left waiting behind a run that ended', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const second = await written(thread, 'enqueue');
    await end(thread.runId);
    const done = await sweepRuns(harness.depsFor([]));
    expect(done.released).toBe(1);
    expect(await runOf(second.id)).toMatchObject({ status: 'queued', waitsFor: null, jobId: second.id });
    expect(await harness.runtime.queues.runs.getJobState(second.id)).toBe('waiting');
  });
});

describe('the sweeper, for a run queued again by an actor that stopped before announcing and enqueueing it', () => {
  it('announces its queued state at the seq it stored, then enqueues it, so its streams see no gap', async () => {
    const { db, events } = harness.runtime;
    const createdAt = new Date(Date.now() - 60_000);
    // Created (1, 2), claimed by a worker that died (3), queued again by an actor that stored seq 4 and stopped.
    const thread = await insertQueuedRun(db, { eventSeq: 4, jobId: 'job-never-added', createdAt });
    const run = await runOf(thread.runId);
    const published: NewRunEvent[] = [
      { event: 'thread.run.created', data: toRunObject(run) },
      { event: 'thread.run.queued', data: toRunObject(run) },
      { event: 'thread.run.in_progress', data: toRunObject({ ...run, status: 'in_progress' }) },
    ];
    await events.append(run, 1, published);

    const done = await sweepRuns(harness.depsFor([]));
    expect(done.requeued).toBe(1);
    const logged = await events.read(thread.runId);
    expect(logged.map((event) => [event.seq, event.event])).toEqual([
      [1, 'thread.run.created'],
      [2, 'thread.run.queued'],
      [3, 'thread.run.in_progress'],
      [4, 'thread.run.queued'],
    ]);
    const requeued = await runOf(thread.runId);
    expect(requeued.jobId).not.toBe('job-never-added');
    expect(await harness.runtime.queues.runs.getJobState(requeued.jobId ?? '')).toBe('waiting');
    // A second look finds the job live and the log whole: nothing is announced twice.
    await sweepRuns(harness.depsFor([]));
    expect(await events.read(thread.runId)).toHaveLength(4);
  });
});

describe('the thread’s mark of waiting runs', () => {
  const threadMark = async (threadId: string) => {
    const [row] = await harness.runtime.db
      .select({ hasWaitingRuns: schema.threads.hasWaitingRuns })
      .from(schema.threads)
      .where(eq(schema.threads.id, threadId));
    return row?.hasWaitingRuns;
  };

  it('is set by a run written to wait, and cleared once no run waits', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    expect(await threadMark(thread.threadId)).toBe(false);
    const second = await written(thread, 'enqueue');
    expect(await threadMark(thread.threadId)).toBe(true);
    await end(thread.runId);
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toMatchObject({ id: second.id });
    expect(await threadMark(thread.threadId)).toBe(false);
  });

  it('left set by a waiting run that was cancelled, is cleared by the next release', async () => {
    const thread = await insertQueuedRun(harness.runtime.db);
    const second = await written(thread, 'enqueue');
    await end(second.id);
    expect(await threadMark(thread.threadId)).toBe(true);
    expect(await releaseWaitingRuns(harness.runtime.db, thread.threadId)).toBeNull();
    expect(await threadMark(thread.threadId)).toBe(false);
  });

  it('is seen by an ending that ran while a run was being written to wait (written after the ending began)', async () => {
    const { db } = harness.runtime;
    const thread = await insertQueuedRun(db);
    const first = (
      await claimRun(
        db,
        thread.runId,
        thread.runId,
        { owner: 'worker-a', until: new Date(Date.now() + 60_000) },
        now,
      )
    )?.run;
    if (!first) throw new Error('not claimed');
    const waitingRunId = newId('run');
    // Pauses the waiting run's writer after it has locked the thread: another transaction holds an uncommitted row
    // with the waiting run's id (on another thread), so the writer's insert waits on it.
    const other = await insertQueuedRun(db);
    let letGo = () => {};
    let held = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const blocker = db
      .transaction(async (tx) => {
        await tx
          .insert(schema.runs)
          .values({ ...(await runOf(other.runId)), id: waitingRunId, status: 'completed' });
        held();
        await new Promise<void>((resolve) => {
          letGo = resolve;
        });
        tx.rollback();
      })
      .catch(() => undefined);
    await holding;
    const backendsWaitingOnLocks = async () => {
      const rows = await db.execute<{ n: number }>(
        sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      );
      return rows.rows[0]?.n;
    };
    const writing = insertRun(
      db,
      runRow({
        id: waitingRunId,
        threadId: thread.threadId,
        ownerId: thread.ownerId,
        assistantId: thread.assistantId,
        status: 'queued',
        startedAt: null,
        jobId: waitingRunId,
        createdAt: now,
      }),
      { touch: { id: thread.threadId, now, owner: thread.ownerId } },
      [],
      null,
      'enqueue',
    );
    await expect.poll(backendsWaitingOnLocks).toBe(1);
    // The ending starts while the waiting run is uncommitted: its snapshot cannot see that run.
    const ending = endRun(db, first, {
      status: 'completed',
      incompleteDetails: null,
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      usageLog: {
        model: 'offline',
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        costUsd: 0,
        latencyMs: 1,
        firstTokenMs: null,
      },
      answer: null,
      eventSeq: 3,
      now,
    });
    await expect.poll(backendsWaitingOnLocks).toBe(2);
    letGo();
    await blocker;
    expect(await writing).toMatchObject({ run: { id: waitingRunId, waitsFor: thread.runId } });
    expect(await ending).toMatchObject({ run: { status: 'completed' }, threadHasWaitingRuns: true });
    expect(await releaseWaitingRuns(db, thread.threadId)).toMatchObject({ id: waitingRunId, waitsFor: null });
    const [stillWaiting] = await db
      .select({ id: schema.runs.id })
      .from(schema.runs)
      .where(and(eq(schema.runs.threadId, thread.threadId), eq(schema.runs.status, 'queued')));
    expect(stillWaiting).toMatchObject({ id: waitingRunId });
  });
});
