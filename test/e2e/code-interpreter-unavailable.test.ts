// Without a sandbox worker, a code_interpreter call is answered at once, as an error the model reads, and the run
// completes instead of waiting for its expiry.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({}, { sandboxWorker: false });
});

afterAll(async () => stack?.close());

it('answers that code_interpreter is not available, and the run completes', async () => {
  const { client } = await stack.newUser('no sandbox');
  const assistant = await client.beta.assistants.create({
    model: 'offline',
    tools: [{ type: 'code_interpreter' }],
  });
  const thread = await client.beta.threads.create({
    messages: [{ role: 'user', content: '```python\nprint(1)\n```' }],
  });
  const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  expect(run.status).toBe('completed');
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
  const details = steps.data.find((step) => step.step_details.type === 'tool_calls')?.step_details;
  const call = details?.type === 'tool_calls' ? details.tool_calls[0] : undefined;
  expect(call?.type === 'code_interpreter' && call.code_interpreter.outputs).toEqual([
    { type: 'logs', logs: expect.stringContaining('no sandbox worker runs on this server') },
  ]);
});
