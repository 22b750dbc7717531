import type { ChildProcess } from 'node:child_process';
import { createLogger } from '@threadwork/shared';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunWorkerHandle, startRunWorker } from '../../services/run-worker/src/worker.js';
import { startServiceProcess } from '../support/processes.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;
let assistantId: string;
const children: ChildProcess[] = [];
const inProcess: RunWorkerHandle[] = [];

beforeAll(async () => {
  stack = await startStack({ OFFLINE_TOKEN_DELAY_MS: '100', RUN_JOB_LOCK_MS: '1000' }, { runWorker: false });
  client = (await stack.newUser()).client;
  assistantId = (await client.beta.assistants.create({ model: 'offline' })).id;
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const worker of inProcess) await worker.close();
  await stack?.close();
});

async function startRunWorkerProcess(): Promise<ChildProcess> {
  const child = await startServiceProcess(stack, 'run-worker');
  children.push(child);
  return child;
}

/** Streams a run and calls `onDeltas` once `count` text deltas have arrived. */
async function streamUntil(count: number, onDeltas: (runId: string, threadId: string) => void) {
  const thread = await client.beta.threads.create({
    messages: [{ role: 'user', content: 'Please tell me a rather long story about queues and workers' }],
  });
  let deltas = 0;
  let streamed = '';
  const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
  stream.on('textDelta', (delta) => {
    streamed += delta.value ?? '';
    deltas += 1;
    const run = stream.currentRun();
    if (deltas === count && run) onDeltas(run.id, thread.id);
  });
  const run = await stream.finalRun();
  return { run, thread, streamed: () => streamed };
}

async function storedAnswer(threadId: string, runId: string) {
  const [message] = (await client.beta.threads.messages.list(threadId, { run_id: runId })).data;
  const text = message?.content[0]?.type === 'text' ? message.content[0].text.value : '';
  return { status: message?.status, reason: message?.incomplete_details?.reason, text };
}

describe('runs whose worker goes away or that are cancelled mid-answer', () => {
  it('fails a run whose worker was killed mid-answer instead of leaving it in_progress', async () => {
    const victim = await startRunWorkerProcess();
    const result = streamUntil(2, () => {
      victim.kill('SIGKILL');
      victim.once('exit', () => {
        void startRunWorker(
          stack.config,
          createLogger({ name: 'test', level: 'silent', pretty: false }),
        ).then((worker) => inProcess.push(worker));
      });
    });
    const { run, thread } = await result;
    expect(run.status).toBe('failed');
    expect(run.last_error).toEqual({
      code: 'server_error',
      message: 'The worker running this run stopped before it finished.',
    });
    const answer = await storedAnswer(thread.id, run.id);
    expect(answer).toMatchObject({ status: 'incomplete', reason: 'run_failed' });
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    expect(steps.data.map((step) => step.status)).toEqual(['failed']);
  });

  it('keeps the text streamed before a cancel on the incomplete message', async () => {
    if (inProcess.length === 0)
      inProcess.push(await startRunWorker(stack.config, createLogger({ name: 'test', level: 'silent' })));
    const { run, thread, streamed } = await streamUntil(3, (runId, threadId) => {
      void client.beta.threads.runs.cancel(runId, { thread_id: threadId });
    });
    expect(run.status).toBe('cancelled');
    const answer = await storedAnswer(thread.id, run.id);
    expect(answer).toMatchObject({ status: 'incomplete', reason: 'run_cancelled' });
    expect(answer.text.length).toBeGreaterThan(0);
    expect(answer.text).toBe(streamed());
  });
});
