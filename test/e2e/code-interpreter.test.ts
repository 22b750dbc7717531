// code_interpreter through the official SDK and the offline model: the call on the run step, its outputs streamed,
// errors in the code as outputs the model reads, and a session that lasts across the thread's runs.
import { schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;
let assistantId: string;
let pool: pg.Pool;

beforeAll(async () => {
  stack = await startStack({}, { sandboxWorker: true });
  client = (await stack.newUser('analyst')).client;
  pool = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  const assistant = await client.beta.assistants.create({
    model: 'offline',
    tools: [{ type: 'code_interpreter' }],
  });
  assistantId = assistant.id;
});

afterAll(async () => {
  await pool?.end();
  await stack?.close();
});

const python = (code: string) => `\`\`\`python\n${code}\n\`\`\``;

async function runCode(threadId: string, content: string, forced = true) {
  await client.beta.threads.messages.create(threadId, { role: 'user', content });
  const run = await client.beta.threads.runs.createAndPoll(threadId, {
    assistant_id: assistantId,
    ...(forced ? { tool_choice: { type: 'code_interpreter' as const } } : {}),
  });
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: threadId });
  const toolStep = steps.data.find((step) => step.step_details.type === 'tool_calls');
  const details = toolStep?.step_details;
  const call = details?.type === 'tool_calls' ? details.tool_calls[0] : undefined;
  const messages = await client.beta.threads.messages.list(threadId, { run_id: run.id });
  const reply = messages.data[0]?.content[0];
  return { run, call, reply: reply?.type === 'text' ? reply.text.value : '' };
}

describe('a forced code_interpreter run', () => {
  it('runs the code, shows the call with its input and logs, and answers with the logs', async () => {
    const thread = await client.beta.threads.create();
    const code = 'import pandas as pd\ndf = pd.DataFrame({"n": [1, 2, 3]})\nprint(df["n"].sum())';
    const { run, call, reply } = await runCode(thread.id, python(code));
    expect(run.status).toBe('completed');
    expect(call?.type).toBe('code_interpreter');
    if (call?.type !== 'code_interpreter') return;
    expect(call.code_interpreter.input).toBe(code);
    expect(call.code_interpreter.outputs).toEqual([{ type: 'logs', logs: '6\n' }]);
    expect(reply).toContain('6');
  });

  it('keeps variables between runs of the same thread', async () => {
    const thread = await client.beta.threads.create();
    await runCode(thread.id, python('answer = 41'));
    const { call } = await runCode(thread.id, python('print(answer + 1)'));
    expect(call?.type === 'code_interpreter' && call.code_interpreter.outputs).toEqual([
      { type: 'logs', logs: '42\n' },
    ]);
  });

  it('hands an error in the code to the model as output, and the run completes', async () => {
    const thread = await client.beta.threads.create();
    const { run, call, reply } = await runCode(thread.id, python('1 / 0'));
    expect(run.status).toBe('completed');
    const logs = call?.type === 'code_interpreter' ? call.code_interpreter.outputs[0] : undefined;
    expect(logs).toMatchObject({ type: 'logs', logs: expect.stringContaining('ZeroDivisionError') });
    expect(reply).toContain('ZeroDivisionError');
  });

  it('is audited like the other built-in tools', async () => {
    const thread = await client.beta.threads.create();
    const { call } = await runCode(thread.id, python('print("audited")'));
    const db = drizzle(pool, { schema });
    const [row] = await db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.callId, call?.id ?? ''));
    expect(row).toMatchObject({
      tool: 'code_interpreter',
      status: 'succeeded',
      output: 'audited\n',
      arguments: { code: 'print("audited")' },
    });
  });
});

describe('without tool_choice', () => {
  it('runs a fenced python block of the message', async () => {
    const thread = await client.beta.threads.create();
    const { call } = await runCode(thread.id, `Please run this:\n${python('print(2 ** 10)')}`, false);
    expect(call?.type === 'code_interpreter' && call.code_interpreter.outputs).toEqual([
      { type: 'logs', logs: '1024\n' },
    ]);
  });
});

describe('streamed', () => {
  it('sends the call, then its input, then its outputs, as OpenAI did', async () => {
    const thread = await client.beta.threads.create();
    await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: python('print("streamed")'),
    });
    const stream = client.beta.threads.runs.stream(thread.id, {
      assistant_id: assistantId,
      tool_choice: { type: 'code_interpreter' },
    });
    const seen: string[] = [];
    stream.on('toolCallCreated', (call) => seen.push(`created:${call.type}`));
    stream.on('toolCallDelta', (delta) => {
      if (delta.type !== 'code_interpreter') return;
      if (delta.code_interpreter?.input) seen.push(`input:${delta.code_interpreter.input}`);
      for (const output of delta.code_interpreter?.outputs ?? [])
        if (output.type === 'logs') seen.push(`logs:${output.logs}`);
    });
    const run = await stream.finalRun();
    expect(run.status).toBe('completed');
    expect(seen).toEqual(['created:code_interpreter', 'input:print("streamed")', 'logs:streamed\n']);
  });
});
