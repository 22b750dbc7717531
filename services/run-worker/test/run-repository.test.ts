// The run repository's operations against real Postgres: one winner per compare-and-set, leases that only their
// holder renews and that others may take once expired, and endings that keep what the run's clients received.
import {
  claimRun,
  closedAnswer,
  endRun,
  endRunUncalled,
  insertRun,
  type Lease,
  type MessageRow,
  messageTextDelta,
  newAnswer,
  newId,
  newToolStep,
  openAnswer,
  renewLease,
  requeueRun,
  schema,
  takeRun,
  unfinishedToolStep,
  writeEarlyEnding,
} from '@threadwork/shared';
import { runRow, userMessageRow } from '@threadwork/testing';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, storedRows } from './support/harness.js';
import { insertQueuedRun } from './support/rows.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('run-repository-test');
});

afterAll(async () => {
  await harness?.close();
});

const now = new Date('2026-12-07T10:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const lease = (owner: string, untilMs = 15_000): Lease => ({ owner, until: later(untilMs) });

describe('insertRun', () => {
  it('writes a new thread, each of its messages as given, and the run, in one statement', async () => {
    const { db } = harness.runtime;
    const { ownerId, assistantId } = await insertQueuedRun(db);
    const thread = {
      id: newId('thread'),
      ownerId,
      endUserId: 'user-7',
      assistantId: null,
      metadata: { topic: 'tea' },
      toolResources: { file_search: { vector_store_ids: ['vs_1'] } },
      createdAt: now,
      lastActivityAt: now,
      hasWaitingRuns: false,
    };
    const message = (text: string, extra: Partial<MessageRow> = {}) =>
      userMessageRow(text, {
        id: newId('message'),
        threadId: thread.id,
        createdAt: now,
        completedAt: now,
        ...extra,
      });
    const given = [
      message('first'),
      message('second, with a file', { attachments: [{ file_id: 'file-1' }], metadata: { n: '2' } }),
    ];
    const run = runRow({ threadId: thread.id, ownerId, assistantId, createdAt: now });
    const written = await insertRun(db, run, { insert: thread }, given, null);

    expect(written).toMatchObject({ run: { id: run.id, waitsFor: null } });
    const { thread: stored, messages } = await storedRows(harness.runtime, run.id);
    expect(stored).toEqual(thread);
    const onThread = await db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.threadId, thread.id))
      .orderBy(asc(schema.messages.id));
    expect(onThread.map(({ id, ...rest }) => rest)).toEqual(given.map(({ id, ...rest }) => rest));
    expect(messages).toEqual([]);
  });
});

describe('claimRun', () => {
  it('moves a queued run to in_progress once, held by the winner', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { jobId: 'job-1' });
    const claims = await Promise.all([
      claimRun(db, runId, 'job-1', lease('worker-a'), now),
      claimRun(db, runId, 'job-1', lease('worker-b'), now),
    ]);
    const won = claims.filter((claim) => claim !== null);
    expect(won).toHaveLength(1);
    expect(won[0]?.run).toMatchObject({
      status: 'in_progress',
      startedAt: now,
      jobId: null,
      leaseExpiresAt: later(15_000),
    });
  });

  it('is taken only by the job that carries the run, not by one left over from before it was queued again', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { eventSeq: 2 });
    await claimRun(db, runId, runId, lease('worker-a', 1_000), now);
    const requeued = await requeueRun(db, runId, 'job-again', later(1_500), 3);
    expect(requeued).toMatchObject({ status: 'queued', jobId: 'job-again', eventSeq: 4 });
    // The dead worker's job, moved back to waiting as stalled, must not number events ahead of the requeue's.
    expect(await claimRun(db, runId, runId, lease('worker-b'), later(1_600))).toBeNull();
    expect((await claimRun(db, runId, 'job-again', lease('worker-b'), later(1_600)))?.run).toMatchObject({
      status: 'in_progress',
      leaseOwner: 'worker-b',
      eventSeq: 4,
    });
  });

  it('reads the messages the run answers with its claim: up to its own, and the answers of the runs before it', async () => {
    const { db } = harness.runtime;
    const { runId, threadId, ownerId, assistantId } = await insertQueuedRun(db);
    const [asked] = await db.select().from(schema.messages).where(eq(schema.messages.threadId, threadId));
    if (!asked) throw new Error('no message');
    const earlierRun = runRow({
      id: newId('run'),
      threadId,
      ownerId,
      assistantId,
      status: 'completed',
      historyUntil: asked.id,
    });
    await db.insert(schema.runs).values(earlierRun);
    // The run waited: it answers the thread up to its own messages, not those of a run queued behind it.
    const historyUntil = newId('message');
    // The run before it answered after this run was written to wait: its answer is in this run's history.
    const answer = userMessageRow('An earlier answer', {
      id: newId('message'),
      threadId,
      role: 'assistant',
      runId: earlierRun.id,
      assistantId,
      attachments: [{ file_id: 'file-1' }],
      metadata: { n: '1' },
      completedAt: now,
    });
    await db.insert(schema.messages).values(answer);
    await db.update(schema.runs).set({ historyUntil }).where(eq(schema.runs.id, runId));
    await db
      .insert(schema.messages)
      .values(userMessageRow('For the run behind', { id: newId('message'), threadId }));

    const claimed = await claimRun(db, runId, runId, lease('worker-a'), now);
    const stored = await db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.threadId, threadId))
      .orderBy(asc(schema.messages.id));
    expect(claimed?.history.history).toEqual(stored.slice(0, 2));
    expect(claimed?.history.turnOf).toEqual(
      new Map([
        [runId, historyUntil],
        [earlierRun.id, asked.id],
      ]),
    );
  });

  it('keeps the time a run first started when it is claimed again after tool outputs', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { startedAt: now });
    expect((await claimRun(db, runId, runId, lease('worker-a'), later(60_000)))?.run.startedAt).toEqual(now);
  });
});

describe('leases', () => {
  it('renews only for its holder, and records the seq the holder reached (never lowering it)', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { eventSeq: 3 });
    await claimRun(db, runId, runId, lease('worker-a'), now);
    expect(await renewLease(db, runId, lease('worker-b', 30_000), 9)).toBe(false);
    expect(await renewLease(db, runId, lease('worker-a', 30_000), 9)).toBe(true);
    expect(await renewLease(db, runId, lease('worker-a', 30_000), 5)).toBe(true);
    expect((await storedRows(harness.runtime, runId)).run).toMatchObject({
      eventSeq: 9,
      leaseExpiresAt: later(30_000),
    });
  });

  it('lets another worker take an in_progress run only once its lease has expired', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    await claimRun(db, runId, runId, lease('worker-a', 1_000), now);
    expect(await takeRun(db, runId, lease('worker-b'), later(500))).toBeNull();
    expect(await takeRun(db, runId, lease('worker-b'), later(1_500))).toMatchObject({
      leaseOwner: 'worker-b',
    });
    expect(await renewLease(db, runId, lease('worker-a'), 0)).toBe(false);
  });

  it('queues again only a run nobody holds, past the seq its dead holder published', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { eventSeq: 2 });
    await claimRun(db, runId, runId, lease('worker-a', 1_000), now);
    expect(await requeueRun(db, runId, 'job-again', later(500), 3)).toBeNull();
    // The holder published in_progress (seq 3) and died before storing anything.
    expect(await requeueRun(db, runId, 'job-again', later(1_500), 3)).toMatchObject({
      status: 'queued',
      jobId: 'job-again',
      leaseOwner: null,
      eventSeq: 4,
    });
  });
});

const turnUsage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };

describe('endRun', () => {
  it('stores the answer and its step as the turn closed them, fails the unfinished tool step, logs the call', async () => {
    const { db } = harness.runtime;
    const { runId, threadId } = await insertQueuedRun(db);
    const run = (await claimRun(db, runId, runId, lease('worker-a'), now))?.run;
    if (!run) throw new Error('not claimed');
    const answer = newAnswer(run, now);
    await openAnswer(db, answer);
    const toolStep = newToolStep(run, now);
    await db.insert(schema.runSteps).values(toolStep);
    const closed = closedAnswer(
      { answer, text: 'Max tokens', status: 'incomplete', usage: turnUsage },
      later(9),
    );
    const ended = await endRun(db, run, {
      status: 'incomplete',
      incompleteDetails: { reason: 'max_completion_tokens' },
      usage: turnUsage,
      usageLog: { model: 'offline', usage: turnUsage, costUsd: 0.5, latencyMs: 3.4, firstTokenMs: 1.6 },
      answer: closed,
      toolStep: unfinishedToolStep(toolStep, later(9)),
      eventSeq: 7,
      now: later(9),
    });

    expect(ended?.run).toMatchObject({
      status: 'incomplete',
      completedAt: later(9),
      incompleteDetails: { reason: 'max_completion_tokens' },
      usage: turnUsage,
      eventSeq: 7,
      leaseOwner: null,
    });
    expect(ended?.threadHasWaitingRuns).toBe(false);
    const { message, steps, usageLogs, thread } = await storedRows(harness.runtime, runId);
    expect(message).toEqual(closed.message);
    expect(steps).toEqual(
      expect.arrayContaining([
        closed.step,
        {
          ...toolStep,
          status: 'failed',
          failedAt: later(9),
          lastError: expect.objectContaining({ code: 'server_error' }),
        },
      ]),
    );
    expect(usageLogs).toMatchObject([{ costUsd: '0.50000000', latencyMs: 3, firstTokenMs: 2 }]);
    expect(thread).toMatchObject({ id: threadId, lastActivityAt: later(9) });
  });

  it('stores a run that ends without an answer: nothing else is touched', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const run = (await claimRun(db, runId, runId, lease('worker-a'), now))?.run;
    if (!run) throw new Error('not claimed');
    const unrelated = { ...newAnswer(run, now).message, id: newId('message') };
    await db.insert(schema.messages).values(unrelated);
    const ended = await endRun(db, run, {
      status: 'completed',
      incompleteDetails: null,
      usage: turnUsage,
      usageLog: { model: 'offline', usage: turnUsage, costUsd: 0, latencyMs: 1, firstTokenMs: null },
      answer: null,
      eventSeq: 4,
      now: later(5),
    });
    expect(ended?.run).toMatchObject({ status: 'completed', incompleteDetails: null });
    expect((await storedRows(harness.runtime, runId)).messages).toEqual([unrelated]);
  });

  it('closes nothing when another actor ended the run first', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const run = (await claimRun(db, runId, runId, lease('worker-a'), now))?.run;
    if (!run) throw new Error('not claimed');
    const answer = newAnswer(run, now);
    await openAnswer(db, answer);
    await db.update(schema.runs).set({ status: 'expired' }).where(eq(schema.runs.id, runId));
    const ended = await endRun(db, run, {
      status: 'completed',
      incompleteDetails: null,
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      usageLog: { model: 'offline', usage: turnUsage, costUsd: 0, latencyMs: 3, firstTokenMs: null },
      answer: { ...answer, message: { ...answer.message, status: 'completed' } },
      eventSeq: 7,
      now,
    });
    expect(ended).toBeNull();
    const { run: stored, message, usageLogs } = await storedRows(harness.runtime, runId);
    expect(stored).toMatchObject({ status: 'expired', eventSeq: 0 });
    expect(message).toMatchObject({ status: 'in_progress' });
    // The model call was paid for: it is logged all the same.
    expect(usageLogs).toMatchObject([{ model: 'offline', totalTokens: 2, firstTokenMs: null }]);
  });
});

describe('endRunUncalled', () => {
  it('ends a run incomplete without logging a model call, once', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const run = (await claimRun(db, runId, runId, lease('worker-a'), now))?.run;
    if (!run) throw new Error('not claimed');
    const ending = {
      incompleteDetails: { reason: 'max_prompt_tokens' as const },
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      eventSeq: 3,
      now: later(1),
    };
    expect(await endRunUncalled(db, run, ending)).toMatchObject({
      run: { status: 'incomplete', eventSeq: 3 },
      threadHasWaitingRuns: false,
    });
    expect(await endRunUncalled(db, run, ending)).toBeNull();
    expect((await storedRows(harness.runtime, runId)).usageLogs).toEqual([]);
  });
});

describe('writeEarlyEnding', () => {
  it('keeps the text the clients received on an answer its worker never stored, and moves the seq past the log', async () => {
    const { db, events } = harness.runtime;
    const { runId } = await insertQueuedRun(db, { eventSeq: 2 });
    const run = (await claimRun(db, runId, runId, lease('worker-a', 1_000), now))?.run;
    if (!run) throw new Error('not claimed');
    const answer = newAnswer(run, now);
    await openAnswer(db, answer);
    // The worker streamed two deltas (seqs 3 and 4), then died before storing anything.
    await events.append(run, 3, [
      messageTextDelta(answer.message.id, 'Half an '),
      messageTextDelta(answer.message.id, 'answer'),
    ]);
    const ended = await writeEarlyEnding(
      db,
      runId,
      { status: 'failed', error: { code: 'server_error', message: 'worker lost' } },
      {
        from: ['in_progress'],
        onlyIfUnheld: true,
        now: later(2_000),
        seqFloor: await events.lastSeq(runId),
        streamedText: (messageId) => events.answerText(runId, messageId),
        eventCount: (closed) => closed.messages + closed.steps + 1,
      },
    );
    expect(ended?.firstSeq).toBe(5);
    expect(ended?.run).toMatchObject({ status: 'failed', eventSeq: 7, leaseOwner: null });
    expect(ended?.closedMessages).toEqual([
      expect.objectContaining({
        status: 'incomplete',
        content: [{ type: 'text', text: { value: 'Half an answer', annotations: [] } }],
      }),
    ]);
  });

  it('leaves a run its holder still holds, when asked to end it only unheld', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    await claimRun(db, runId, runId, lease('worker-a', 60_000), now);
    const ended = await writeEarlyEnding(
      db,
      runId,
      { status: 'cancelled' },
      {
        onlyIfUnheld: true,
        now: later(1_000),
        seqFloor: 0,
        streamedText: async () => '',
        eventCount: () => 1,
      },
    );
    expect(ended).toBeNull();
  });
});
