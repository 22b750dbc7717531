// Expiry through the official SDK: a run left in requires_action past expires_at becomes expired and refuses
// outputs; one answered in time keeps its expires_at and is left alone by the expiry job.

import { waitFor } from '@threadwork/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV, expectApiError, waitForRunStatus } from './assistants-helpers.js';

const EXPIRY_SECONDS = 2;

let stack: Stack;
let alice: OpenAI;
let assistantId: string;

beforeAll(async () => {
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, RUN_EXPIRY_SECONDS: String(EXPIRY_SECONDS) });
  alice = (await stack.newUser('alice')).client;
  const assistant = await alice.beta.assistants.create({
    model: 'offline',
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
  });
  assistantId = assistant.id;
});

afterAll(async () => {
  await stack?.close();
});

async function runWaitingForTools() {
  const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: '{"q":"x"}' }] });
  const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistantId,
    tool_choice: { type: 'function', function: { name: 'lookup' } },
  });
  expect(run.status).toBe('requires_action');
  const call = run.required_action?.submit_tool_outputs.tool_calls[0];
  if (!call) throw new Error('no tool call');
  return { thread, run, call };
}

/** Waits until the run's delayed expiry job has been processed by the worker. */
async function waitForExpiryJob(runId: string, stepId: string, timeoutMs = 10_000): Promise<void> {
  let state = 'missing';
  await waitFor(
    async () => {
      const job = await stack.api.deps.queues.runs.getJob(`${runId}-expire-${stepId}`);
      state = job ? await job.getState() : 'missing';
      return state === 'completed';
    },
    { timeoutMs, intervalMs: 20, what: () => `the expiry job to complete (it is ${state})` },
  );
}

describe('run expiry', () => {
  it('expires a run left in requires_action; a later submit gets 400 and the thread is free again', async () => {
    const { thread, run, call } = await runWaitingForTools();
    expect(run.expires_at).toBe(run.created_at + EXPIRY_SECONDS);
    const expired = await waitForRunStatus(alice, thread.id, run.id, ['expired']);
    expect(expired).toMatchObject({ status: 'expired', required_action: null, expires_at: run.expires_at });
    const [step] = (await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ type: 'tool_calls', status: 'expired' });
    expect(step?.expired_at).toBeTypeOf('number');
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'too late' }],
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: 'Runs in status "expired" do not accept tool outputs.',
        type: 'invalid_request_error',
      },
    );
    await expectApiError(
      alice.beta.threads.runs.cancel(run.id, { thread_id: thread.id }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: "Cannot cancel run with status 'expired'.",
      },
    );
    await alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'still there?' });
    const next = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistantId,
      tool_choice: 'none',
    });
    expect(next.status).toBe('completed');
  });

  it('keeps expires_at across submit_tool_outputs and does not expire a run answered in time', async () => {
    const { thread, run, call } = await runWaitingForTools();
    const queued = await alice.beta.threads.runs.submitToolOutputs(run.id, {
      thread_id: thread.id,
      tool_outputs: [{ tool_call_id: call.id, output: 'in time' }],
    });
    expect(queued).toMatchObject({ status: 'queued', expires_at: run.expires_at });
    const done = await alice.beta.threads.runs.poll(run.id, { thread_id: thread.id });
    expect(done).toMatchObject({ status: 'completed', expires_at: null });
    const [toolStep] = (
      await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    ).data;
    await waitForExpiryJob(run.id, toolStep?.id ?? '');
    expect(await alice.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).toMatchObject({
      status: 'completed',
    });
  });
});
