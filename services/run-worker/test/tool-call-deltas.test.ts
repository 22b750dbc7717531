// Tool calls streamed as the model makes them: the tool_calls step opens at the first call, each call's arguments
// go out as step deltas, the stored step keeps the call ids the deltas named, and a worker lost mid-call is settled.
import {
  claimRun,
  closedAnswer,
  newAnswer,
  newToolStep,
  openAnswer,
  openToolStep,
  type RunStepDeltaObject,
  saveAnswerText,
} from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../src/execute-run.js';
import { recoverAbandonedRun } from '../src/recovery.js';
import { answerEvents, eventsOf, type Harness, startHarness, storedRows } from './support/harness.js';
import { insertQueuedRun } from './support/rows.js';
import type { ModelStep } from './support/scripted-model.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('tool-call-deltas-test');
});

afterAll(async () => {
  await harness?.close();
});

const bookTable = {
  tools: [{ type: 'function' as const, function: { name: 'book_table', parameters: { type: 'object' } } }],
};

/** The tool call deltas of a run's events, in order. */
async function toolCallDeltas(runId: string): Promise<RunStepDeltaObject[]> {
  const events = await harness.runtime.events.read(runId);
  return events.flatMap((item) => (item.event === 'thread.run.step.delta' ? [item.data] : []));
}

describe('tool calls streamed as the model makes them', () => {
  it('opens the tool step at the first call, streams its arguments in pieces, and stores them under the same id', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db, bookTable);
    const turn: ModelStep[] = [
      { type: 'text', delta: 'Booking it' },
      { type: 'tool_call_started', index: 1, id: 'model_call_1', name: 'book_table' },
      { type: 'tool_call_arguments', index: 1, delta: '{"seats"' },
      { type: 'tool_call_arguments', index: 1, delta: ':2,"time"' },
      { type: 'tool_call_arguments', index: 1, delta: ':"19:00"}' },
      {
        type: 'tool_call',
        call: { id: 'model_call_1', name: 'book_table', arguments: '{"seats":2,"time":"19:00"}' },
      },
      { type: 'usage', promptTokens: 11, completionTokens: 4 },
      { type: 'finish', reason: 'tool_calls' },
    ];
    await executeRun(harness.depsFor(turn), runId, runId);

    const { run, steps } = await storedRows(harness.runtime, runId);
    expect((await eventsOf(harness.runtime, runId)).names).toEqual([
      'thread.run.in_progress',
      ...answerEvents,
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.delta',
      'thread.run.step.delta',
      'thread.run.step.delta',
      'thread.run.step.delta',
      'thread.run.requires_action',
    ]);
    const [, toolStep] = steps;
    const stored = toolStep?.stepDetails.type === 'tool_calls' ? toolStep.stepDetails.tool_calls : [];
    expect(stored).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'book_table', arguments: '{"seats":2,"time":"19:00"}', output: null },
      },
    ]);
    const deltas = await toolCallDeltas(runId);
    const pieces = deltas.map((delta) => delta.delta.step_details.tool_calls[0]);
    expect(deltas.every((delta) => delta.id === toolStep?.id)).toBe(true);
    expect(pieces[0]).toEqual({
      index: 0,
      id: stored[0]?.id,
      type: 'function',
      function: { name: 'book_table', arguments: '', output: null },
    });
    expect(pieces.slice(1).every((piece) => piece?.id === undefined && piece?.index === 0)).toBe(true);
    expect(pieces.map((piece) => (piece?.type === 'function' ? piece.function.arguments : '')).join('')).toBe(
      '{"seats":2,"time":"19:00"}',
    );
    expect(run?.requiredAction?.submit_tool_outputs.tool_calls[0]?.id).toBe(stored[0]?.id);
  });

  it('fails the tool step of a run the model cut at its token limit mid-call, and ends the run incomplete', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db, bookTable);
    const turn: ModelStep[] = [
      { type: 'tool_call_started', index: 0, id: 'model_call_1', name: 'book_table' },
      { type: 'tool_call_arguments', index: 0, delta: '{"seats"' },
      { type: 'usage', promptTokens: 11, completionTokens: 4 },
      { type: 'finish', reason: 'length' },
    ];
    await executeRun(harness.depsFor(turn), runId, runId);

    const { run, steps } = await storedRows(harness.runtime, runId);
    expect(run).toMatchObject({
      status: 'incomplete',
      incompleteDetails: { reason: 'max_completion_tokens' },
    });
    expect(steps).toEqual([
      expect.objectContaining({ type: 'tool_calls', status: 'failed', lastError: expect.anything() }),
    ]);
    const { names } = await eventsOf(harness.runtime, runId);
    expect(names.slice(-2)).toEqual(['thread.run.step.failed', 'thread.run.incomplete']);
  });

  it('recovers a run whose worker stopped with a tool step open and no calls recorded: failed, its text kept', async () => {
    const queued = await insertQueuedRun(harness.runtime.db, bookTable);
    const past = new Date(Date.now() - 60_000);
    const run = (
      await claimRun(
        harness.runtime.db,
        queued.runId,
        queued.runId,
        { owner: 'lost-worker', until: past },
        past,
      )
    )?.run;
    if (!run) throw new Error('run not claimed');
    const answer = newAnswer(run, past);
    await openAnswer(harness.runtime.db, answer);
    await saveAnswerText(harness.runtime.db, answer.message.id, 'Booking it');
    const closed = closedAnswer({ answer, text: 'Booking it', status: 'completed', usage: null }, past);
    await openToolStep(harness.runtime.db, newToolStep(run, past), closed);

    expect(await recoverAbandonedRun(harness.depsFor([]), run)).toBe('failed_keeping_text');

    const { run: ended, message, steps } = await storedRows(harness.runtime, queued.runId);
    expect(ended).toMatchObject({ status: 'failed', lastError: { code: 'server_error' } });
    expect(message).toMatchObject({
      status: 'completed',
      content: [{ type: 'text', text: { value: 'Booking it', annotations: [] } }],
    });
    expect(steps.map((step) => [step.type, step.status])).toEqual([
      ['message_creation', 'completed'],
      ['tool_calls', 'failed'],
    ]);
  });
});
