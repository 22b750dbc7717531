import { closeDb, createDb, type Db, offlineEmbedding, saveChunks } from '@threadwork/shared';
import { sql } from 'drizzle-orm';
import OpenAI, { toFile } from 'openai';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { FileSearchToolCall, RunStep } from 'openai/resources/beta/threads/runs/steps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const CONTENT = 'step_details.tool_calls[*].file_search.results[*].content' as const;

const handbook = [
  {
    fileId: 'file_password',
    filename: 'accounts.md',
    text: 'If you forgot your password, open the sign-in page and choose "Forgot password". We email a reset link that expires after 30 minutes.',
  },
  {
    fileId: 'file_refunds',
    filename: 'refunds.md',
    text: 'Customers may return unused items within 30 days of delivery for a full refund to the original payment method.',
  },
  {
    fileId: 'file_shipping',
    filename: 'shipping.md',
    text: 'Orders ship from our Rotterdam warehouse. Standard delivery takes 3 to 5 working days within the EU.',
  },
  {
    fileId: 'file_security',
    filename: 'security.md',
    text: 'Production databases are encrypted at rest, and backups are taken every night and kept for 35 days.',
  },
];

let stack: Stack;
let db: Db;
let reader: { client: OpenAI; projectId: string };
let stranger: { client: OpenAI; projectId: string };
/** The reader's vector store, its chunks saved directly (no ingestion). */
let handbookStore: string;

beforeAll(async () => {
  stack = await startStack();
  db = createDb({ url: stack.database.url, poolSize: 2 });
  [reader, stranger] = await Promise.all([stack.newUser('reader'), stack.newUser('stranger')]);
  handbookStore = (await reader.client.vectorStores.create({ name: 'handbook' })).id;
  for (const file of handbook) {
    await saveChunks(db, {
      projectId: reader.projectId,
      vectorStoreId: handbookStore,
      fileId: file.fileId,
      filename: file.filename,
      attributes: {},
      chunks: [{ index: 0, text: file.text, tokens: 30, embedding: offlineEmbedding(file.text) }],
    });
  }
});

afterAll(async () => {
  if (db) await closeDb(db);
  await stack?.close();
});

function fileSearchCalls(steps: RunStep[]): FileSearchToolCall[] {
  return steps.flatMap((step) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.filter((call): call is FileSearchToolCall => call.type === 'file_search')
      : [],
  );
}

function answerText(message: Message | undefined) {
  const part = message?.content[0];
  if (part?.type !== 'text') throw new Error('the answer has no text');
  return part.text;
}

async function assistantFor(client: OpenAI, vectorStoreIds: string[]) {
  return client.beta.assistants.create({
    model: 'offline',
    tools: [{ type: 'file_search' }],
    tool_resources: { file_search: { vector_store_ids: vectorStoreIds } },
  });
}

async function runAndList(
  client: OpenAI,
  question: string,
  options: { forced?: boolean; stores?: string[] } = {},
) {
  const assistant = await assistantFor(client, options.stores ?? [handbookStore]);
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: question }] });
  const run = await client.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistant.id,
    ...(options.forced ? { tool_choice: { type: 'file_search' as const } } : {}),
  });
  const steps = [];
  for await (const step of client.beta.threads.runs.steps.list(run.id, {
    thread_id: thread.id,
    include: [CONTENT],
  }))
    steps.push(step);
  const messages = await client.beta.threads.messages.list(thread.id, { order: 'desc', limit: 1 });
  return { run, thread, steps, answer: messages.data[0] };
}

describe('file_search through the official SDK (offline model)', () => {
  it('searches when asked to, shows the results on the step, and cites the file in the answer', async () => {
    const { run, thread, steps, answer } = await runAndList(
      reader.client,
      'Search the documents: how do I reset my password?',
    );
    expect(run.status).toBe('completed');
    const [call] = fileSearchCalls(steps);
    expect(call?.file_search.ranking_options).toEqual({ ranker: 'default_2024_08_21', score_threshold: 0 });
    const [best] = call?.file_search.results ?? [];
    expect(best).toMatchObject({ file_id: 'file_password', file_name: 'accounts.md' });
    expect(best?.score).toBeGreaterThan(0);
    expect(best?.content).toEqual([{ type: 'text', text: handbook[0]?.text }]);

    const audit = await db.execute<{ tool: string; status: string }>(
      sql`select tool, status from tool_executions where run_id = ${run.id}`,
    );
    expect(audit.rows).toEqual([{ tool: 'file_search', status: 'succeeded' }]);

    const text = answerText(answer);
    expect(text.value).toContain('[offline model]');
    const citation = text.annotations.find((annotation) => annotation.type === 'file_citation');
    expect(citation).toMatchObject({ type: 'file_citation', file_citation: { file_id: 'file_password' } });
    expect(text.value.slice(citation?.start_index, citation?.end_index)).toBe(citation?.text);
    expect(citation?.text).toMatch(/^【\d+:\d+†source】$/);

    const stepId = steps.find((step) => step.type === 'tool_calls')?.id ?? '';
    const plain = await reader.client.beta.threads.runs.steps.retrieve(stepId, {
      thread_id: thread.id,
      run_id: run.id,
    });
    const plainResults = fileSearchCalls([plain])[0]?.file_search.results ?? [];
    expect(plainResults[0]).toEqual({
      file_id: 'file_password',
      file_name: 'accounts.md',
      score: best?.score,
    });
    const included = await reader.client.beta.threads.runs.steps.retrieve(stepId, {
      thread_id: thread.id,
      run_id: run.id,
      include: [CONTENT],
    });
    expect(fileSearchCalls([included])[0]?.file_search.results?.[0]?.content).toEqual(best?.content);
  });

  it('searches when tool_choice forces file_search, with the message as the query', async () => {
    const { steps, answer } = await runAndList(reader.client, 'How long does delivery take?', {
      forced: true,
    });
    expect(fileSearchCalls(steps)[0]?.file_search.results?.[0]?.file_id).toBe('file_shipping');
    const citations = answerText(answer).annotations;
    expect(citations[0]).toMatchObject({ file_citation: { file_id: 'file_shipping' } });
  });

  it('streams the step with the results’ content when create asks for it, and the cited answer', async () => {
    const assistant = await assistantFor(reader.client, [handbookStore]);
    const thread = await reader.client.beta.threads.create({
      messages: [{ role: 'user', content: 'Look through the files: are backups encrypted?' }],
    });
    const stream = reader.client.beta.threads.runs.stream(thread.id, {
      assistant_id: assistant.id,
      include: [CONTENT],
    });
    const finished: RunStep[] = [];
    stream.on('runStepDone', (step) => finished.push(step));
    const [message] = await stream.finalMessages();
    const result = fileSearchCalls(finished)[0]?.file_search.results?.[0];
    expect(result).toMatchObject({
      file_id: 'file_security',
      content: [{ type: 'text', text: handbook[3]?.text }],
    });
    expect(answerText(message).annotations[0]).toMatchObject({ file_citation: { file_id: 'file_security' } });
  });

  it('leaves the content out of a stream that did not ask for it', async () => {
    const assistant = await assistantFor(reader.client, [handbookStore]);
    const thread = await reader.client.beta.threads.create({
      messages: [{ role: 'user', content: 'Search my files for the refund policy' }],
    });
    const stream = reader.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const finished: RunStep[] = [];
    stream.on('runStepDone', (step) => finished.push(step));
    await stream.finalRun();
    const results = fileSearchCalls(finished)[0]?.file_search.results ?? [];
    expect(results[0]).toMatchObject({ file_id: 'file_refunds' });
    expect(results.every((item) => item.content === undefined)).toBe(true);
  });

  it('searches the stores a create-thread-and-run names in its tool_resources', async () => {
    const assistant = await assistantFor(reader.client, []);
    const run = await reader.client.beta.threads.createAndRunPoll({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'Search the files: how long are backups kept?' }] },
      tool_resources: { file_search: { vector_store_ids: [handbookStore] } },
    });
    const steps = [];
    for await (const step of reader.client.beta.threads.runs.steps.list(run.id, { thread_id: run.thread_id }))
      steps.push(step);
    expect(fileSearchCalls(steps)[0]?.file_search.results?.[0]?.file_id).toBe('file_security');
    const thread = await reader.client.beta.threads.retrieve(run.thread_id);
    expect(thread.tool_resources).toEqual({ file_search: { vector_store_ids: [handbookStore] } });
  });

  it('refuses another project’s store in tool_resources as a store that does not exist', async () => {
    const refused = await assistantFor(stranger.client, [handbookStore]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    const missing = await assistantFor(stranger.client, ['vs_000000000000000000000000']).catch(
      (error: unknown) => error,
    );
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).message).toBe(
      (refused as InstanceType<typeof OpenAI.NotFoundError>).message.replace(
        handbookStore,
        'vs_000000000000000000000000',
      ),
    );
  });
});

describe('file_search over files uploaded through the API', () => {
  it('answers from a markdown file added to a vector store, citing the uploaded file', async () => {
    const { client } = await stack.newUser('uploader');
    const file = await client.files.create({
      file: await toFile(
        Buffer.from(
          '# Kettle care\n\nThe warranty of the Aurora kettle lasts two years from the date of purchase.\n\n' +
            '# Descaling\n\nDescale the kettle every month with citric acid.',
        ),
        'kettle.md',
      ),
      purpose: 'assistants',
    });
    const store = await client.vectorStores.create({ name: 'manuals', file_ids: [file.id] });
    await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 20 });
    const assistant = await assistantFor(client, [store.id]);
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Search the documents: how long is the kettle warranty?' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(run.status).toBe('completed');
    const steps = [];
    for await (const step of client.beta.threads.runs.steps.list(run.id, {
      thread_id: thread.id,
      include: [CONTENT],
    }))
      steps.push(step);
    const [best] = fileSearchCalls(steps)[0]?.file_search.results ?? [];
    expect(best).toMatchObject({ file_id: file.id, file_name: 'kettle.md' });
    expect(best?.content?.[0]?.text).toContain('two years');
    const [answer] = (await client.beta.threads.messages.list(thread.id, { order: 'desc', limit: 1 })).data;
    const text = answerText(answer);
    const [citation] = text.annotations;
    expect(citation).toMatchObject({ type: 'file_citation', file_citation: { file_id: file.id } });
    expect(text.value.slice(citation?.start_index, citation?.end_index)).toBe(citation?.text);
  });

  it('makes a store from vector_stores, and a thread’s store from the files its messages attach', async () => {
    const { client } = await stack.newUser('attacher');
    const upload = async (name: string, text: string) =>
      client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
    const guide = await upload('guide.md', '# Returns\n\nReturns are accepted within 60 days.');
    const faq = await upload('faq.md', '# Shipping\n\nParcels ship within two working days.');
    const notes = await upload('notes.md', '# Hours\n\nThe shop opens at nine.');
    const storeFiles = async (storeId: string) => {
      const ids = [];
      for await (const file of client.vectorStores.files.list(storeId)) ids.push(file.id);
      return ids.sort();
    };
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_stores: [{ file_ids: [guide.id] }] } },
    });
    const [assistantStore] = assistant.tool_resources?.file_search?.vector_store_ids ?? [];
    expect(assistantStore).toMatch(/^vs_/);
    expect(await storeFiles(assistantStore ?? '')).toEqual([guide.id]);
    const searchable = (fileId: string) => ({ file_id: fileId, tools: [{ type: 'file_search' as const }] });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'See the attached FAQ.', attachments: [searchable(faq.id)] }],
    });
    const [threadStore] = thread.tool_resources?.file_search?.vector_store_ids ?? [];
    expect(threadStore).toMatch(/^vs_/);
    expect(threadStore).not.toBe(assistantStore);
    expect(await storeFiles(threadStore ?? '')).toEqual([faq.id]);
    await client.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'And these notes.',
      attachments: [searchable(notes.id)],
    });
    expect(await storeFiles(threadStore ?? '')).toEqual([faq.id, notes.id].sort());
    const stranger = (await stack.newUser('borrower')).client;
    const borrowed = await stranger.beta.threads
      .create({ messages: [{ role: 'user', content: 'x', attachments: [searchable(faq.id)] }] })
      .catch((error: unknown) => error);
    expect(borrowed).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
