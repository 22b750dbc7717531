// The done-when of code_interpreter, through the official SDK and the offline model: a thread with a CSV attached, a
// forced run that reads it with pandas and plots it with matplotlib, an image_file in the answer that downloads as
// a PNG, a written file cited with a file_path annotation, and a second run that sees the first one's variables.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({}, { sandboxWorker: true });
  client = (await stack.newUser('data analyst')).client;
});

afterAll(async () => stack?.close());

const python = (code: string) => `\`\`\`python\n${code}\n\`\`\``;

const ANALYSIS = `
import pandas as pd
import matplotlib.pyplot as plt
sales = pd.read_csv('/mnt/data/sales.csv')
total = int(sales['amount'].sum())
sales.plot(x='month', y='amount')
sales.describe().to_csv('/mnt/data/summary.csv')
print('total', total)`;

it('reads an attached CSV, plots it, hands back the figure and files, and keeps the session for the next run', async () => {
  const csv = await client.files.create({
    file: await toFile(Buffer.from('month,amount\n1,10\n2,20\n3,15\n'), 'sales.csv'),
    purpose: 'assistants',
  });
  const assistant = await client.beta.assistants.create({
    model: 'offline',
    tools: [{ type: 'code_interpreter' }],
  });
  const thread = await client.beta.threads.create({
    messages: [
      {
        role: 'user',
        content: python(ANALYSIS),
        attachments: [{ file_id: csv.id, tools: [{ type: 'code_interpreter' }] }],
      },
    ],
  });
  const run = await client.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistant.id,
    tool_choice: { type: 'code_interpreter' },
  });
  expect(run.status).toBe('completed');

  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
  const details = steps.data.find((step) => step.step_details.type === 'tool_calls')?.step_details;
  const call = details?.type === 'tool_calls' ? details.tool_calls[0] : undefined;
  if (call?.type !== 'code_interpreter')
    throw new Error(`no code_interpreter call: ${JSON.stringify(details)}`);
  const [logs, image] = call.code_interpreter.outputs;
  expect(logs).toMatchObject({ type: 'logs', logs: expect.stringMatching(/^total 45\n/) });
  expect(image?.type).toBe('image');

  const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  const figure = answer?.content.find((part) => part.type === 'image_file');
  if (figure?.type !== 'image_file') throw new Error('the answer has no image_file');
  expect(image?.type === 'image' && image.image.file_id).toBe(figure.image_file.file_id);
  const png = Buffer.from(await (await client.files.content(figure.image_file.file_id)).arrayBuffer());
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(await client.files.retrieve(figure.image_file.file_id)).toMatchObject({
    purpose: 'assistants_output',
  });

  const text = answer?.content.find((part) => part.type === 'text');
  const annotation = text?.type === 'text' ? text.text.annotations[0] : undefined;
  if (annotation?.type !== 'file_path') throw new Error('the answer cites no written file');
  expect(annotation.text).toBe('sandbox:/mnt/data/summary.csv');
  const summary = await (await client.files.content(annotation.file_path.file_id)).text();
  expect(summary).toContain('amount');

  await client.beta.threads.messages.create(thread.id, { role: 'user', content: python('print(total * 2)') });
  const second = await client.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistant.id,
    tool_choice: { type: 'code_interpreter' },
  });
  expect(second.status).toBe('completed');
  const [reply] = (await client.beta.threads.messages.list(thread.id, { run_id: second.id })).data;
  const replyText = reply?.content[0]?.type === 'text' ? reply.content[0].text.value : '';
  expect(replyText).toContain('90');
});
