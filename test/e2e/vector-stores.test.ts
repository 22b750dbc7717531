// /v1/vector_stores through the official SDK: stores, their files and batches, ingestion by the ingest worker
// (PDF, docx, markdown; a corrupt file fails only itself), attributes, search, deletion, and 404 for other projects.
import { createLogger } from '@threadwork/shared';
import { docxWithParagraphs, pdfWithText } from '@threadwork/testing';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestWorker, startIngestWorker } from '../../services/ingest-worker/src/worker.js';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;
let ingestWorker: IngestWorker | undefined;

beforeAll(async () => {
  stack = await startStack({}, { runWorker: false, toolWorker: false, ingestWorker: false });
  ({ client } = await stack.newUser('vector stores'));
});

afterAll(async () => {
  await ingestWorker?.close();
  await stack?.close();
});

/** The first test needs files to stay in progress: the ingest worker starts after it. */
async function startIngesting(): Promise<void> {
  ingestWorker ??= await startIngestWorker(
    stack.config,
    createLogger({ name: 'ingest', level: 'silent', pretty: false }),
  );
}

const textFile = (name: string, text: string) => toFile(Buffer.from(text), name);

const WARRANTY = 'The warranty of the Aurora kettle lasts two years from the date of purchase.';
const SHIPPING = 'Orders ship from Rotterdam and arrive within five working days.';
const RETURNS = 'Unworn shoes may be returned within thirty days for a full refund.';

describe('file batches', () => {
  it('cancels a batch and the files of it still in progress', async () => {
    const store = await client.vectorStores.create({ name: 'to cancel' });
    const file = await client.files.create({ file: await textFile('a.txt', 'alpha'), purpose: 'assistants' });
    const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] });
    expect(batch).toMatchObject({
      object: 'vector_store.files_batch',
      vector_store_id: store.id,
      status: 'in_progress',
      file_counts: { in_progress: 1, completed: 0, failed: 0, cancelled: 0, total: 1 },
    });
    expect((await client.vectorStores.retrieve(store.id)).status).toBe('in_progress');
    const cancelled = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 1, in_progress: 0 } });
    const files = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
    expect(files.data.map((entry) => [entry.id, entry.status])).toEqual([[file.id, 'cancelled']]);
    await startIngesting();
  });

  it('uploads a PDF, a docx and a markdown file with uploadAndPoll; a corrupt PDF fails only itself', async () => {
    await startIngesting();
    const store = await client.vectorStores.create({ name: 'handbook' });
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(
      store.id,
      {
        files: [
          await toFile(pdfWithText(['Kettles', WARRANTY]), 'kettle.pdf'),
          await toFile(await docxWithParagraphs(['Shipping', SHIPPING]), 'shipping.docx'),
          await textFile('returns.md', `# Returns\n\n${RETURNS}\n`),
          await toFile(Buffer.from('%PDF-1.7\n1 0 obj broken'), 'corrupt.pdf'),
        ],
      },
      { pollIntervalMs: 20 },
    );
    expect(batch).toMatchObject({
      status: 'completed',
      file_counts: { in_progress: 0, completed: 3, failed: 1, cancelled: 0, total: 4 },
    });
    const failed = await client.vectorStores.files.list(store.id, { filter: 'failed' });
    expect(failed.data).toHaveLength(1);
    expect(failed.data[0]?.last_error).toMatchObject({
      code: 'invalid_file',
      message: expect.stringContaining('corrupt.pdf'),
    });
    const retrieved = await client.vectorStores.retrieve(store.id);
    expect(retrieved).toMatchObject({
      object: 'vector_store',
      name: 'handbook',
      status: 'completed',
      file_counts: { completed: 3, failed: 1, total: 4 },
    });
    expect(retrieved.usage_bytes).toBeGreaterThan(WARRANTY.length + SHIPPING.length + RETURNS.length);

    const results = await client.vectorStores.search(store.id, {
      query: 'How long does the kettle warranty last?',
    });
    const top = results.data[0];
    expect(top).toMatchObject({ filename: 'kettle.pdf', attributes: null });
    expect(top?.content[0]?.text).toContain(WARRANTY);
    const shipping = await client.vectorStores.search(store.id, {
      query: 'When do orders arrive?',
      max_num_results: 1,
    });
    expect(shipping.data.map((hit) => hit.filename)).toEqual(['shipping.docx']);
  });
});

describe('vector store files', () => {
  it('adds a file with attributes and a static chunking strategy, filters a search by attributes, updates and removes it', async () => {
    await startIngesting();
    const store = await client.vectorStores.create({ name: 'policies', metadata: { team: 'support' } });
    const returns = await client.files.create({
      file: await textFile('returns.txt', RETURNS),
      purpose: 'assistants',
    });
    const shipping = await client.files.create({
      file: await textFile('shipping.txt', SHIPPING),
      purpose: 'assistants',
    });
    const added = await client.vectorStores.files.createAndPoll(
      store.id,
      {
        file_id: returns.id,
        attributes: { region: 'eu', year: 2026 },
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 },
        },
      },
      { pollIntervalMs: 20 },
    );
    expect(added).toMatchObject({
      id: returns.id,
      object: 'vector_store.file',
      vector_store_id: store.id,
      status: 'completed',
      last_error: null,
      attributes: { region: 'eu', year: 2026 },
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
    });
    expect(added.usage_bytes).toBeGreaterThan(0);
    await client.vectorStores.files.createAndPoll(store.id, {
      file_id: shipping.id,
      attributes: { region: 'us' },
    });

    const eu = await client.vectorStores.search(store.id, {
      query: 'refund for shoes and shipping',
      filters: { type: 'eq', key: 'region', value: 'eu' },
    });
    expect(eu.data.map((hit) => hit.file_id)).toEqual([returns.id]);
    const updated = await client.vectorStores.files.update(shipping.id, {
      vector_store_id: store.id,
      attributes: { region: 'eu' },
    });
    expect(updated.attributes).toEqual({ region: 'eu' });
    const both = await client.vectorStores.search(store.id, {
      query: 'refund for shoes and shipping',
      filters: { type: 'eq', key: 'region', value: 'eu' },
    });
    expect(both.data.map((hit) => hit.file_id).sort()).toEqual([returns.id, shipping.id].sort());

    const listed: string[] = [];
    for await (const entry of client.vectorStores.files.list(store.id, { limit: 1 })) listed.push(entry.id);
    expect(listed.sort()).toEqual([returns.id, shipping.id].sort());

    expect(await client.vectorStores.files.delete(shipping.id, { vector_store_id: store.id })).toEqual({
      id: shipping.id,
      object: 'vector_store.file.deleted',
      deleted: true,
    });
    expect((await client.files.retrieve(shipping.id)).id).toBe(shipping.id);
    const left = await client.vectorStores.search(store.id, { query: 'shipping Rotterdam' });
    expect(left.data.map((hit) => hit.file_id)).toEqual([returns.id]);
  });

  it('removes a deleted file from every store, with its chunks', async () => {
    await startIngesting();
    const file = await client.files.create({
      file: await textFile('shared.md', WARRANTY),
      purpose: 'assistants',
    });
    const first = await client.vectorStores.create({ name: 'first', file_ids: [file.id] });
    const second = await client.vectorStores.create({ name: 'second', file_ids: [file.id] });
    for (const store of [first, second]) {
      await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 20 });
      expect((await client.vectorStores.search(store.id, { query: 'kettle warranty' })).data).toHaveLength(1);
    }
    await client.files.delete(file.id);
    for (const store of [first, second]) {
      expect((await client.vectorStores.files.list(store.id)).data).toEqual([]);
      expect((await client.vectorStores.search(store.id, { query: 'kettle warranty' })).data).toEqual([]);
      expect((await client.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
    }
  });

  it('leaves none of a deleted project’s chunks behind', async () => {
    await startIngesting();
    const doomed = await stack.newUser('doomed');
    const file = await doomed.client.files.create({
      file: await textFile('doomed.md', WARRANTY),
      purpose: 'assistants',
    });
    const store = await doomed.client.vectorStores.create({ name: 'doomed', file_ids: [file.id] });
    await doomed.client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 20 });
    const database = new pg.Client({ connectionString: stack.database.url });
    await database.connect();
    const chunksOf = async () => {
      const { rows } = await database.query<{ count: string }>(
        'select count(*) from vector_store_chunks where project_id = $1',
        [doomed.projectId],
      );
      return Number(rows[0]?.count);
    };
    try {
      expect(await chunksOf()).toBeGreaterThan(0);
      const deleted = await fetch(`${stack.api.url}/admin/projects/${doomed.projectId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(deleted.status).toBe(200);
      expect(await chunksOf()).toBe(0);
    } finally {
      await database.end();
    }
  });

  it('fails a file of an unsupported type with unsupported_file', async () => {
    await startIngesting();
    const store = await client.vectorStores.create({});
    const file = await client.files.create({
      file: await toFile(Buffer.from([0x89, 0x50]), 'photo.png'),
      purpose: 'assistants',
    });
    const added = await client.vectorStores.files.createAndPoll(
      store.id,
      { file_id: file.id },
      { pollIntervalMs: 20 },
    );
    expect(added).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toEqual({
      in_progress: 0,
      completed: 0,
      failed: 1,
      cancelled: 0,
      total: 1,
    });
  });
});

describe('vector stores', () => {
  it('creates, lists with for await, modifies (expiry, metadata) and deletes stores', async () => {
    const { client: owner } = await stack.newUser('lister');
    const created = await owner.vectorStores.create({
      name: 'one',
      metadata: { a: '1' },
      expires_after: { anchor: 'last_active_at', days: 7 },
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^vs_/),
      object: 'vector_store',
      created_at: expect.any(Number),
      name: 'one',
      description: null,
      usage_bytes: 0,
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
      status: 'completed',
      expires_after: { anchor: 'last_active_at', days: 7 },
      expires_at: (created.last_active_at ?? 0) + 7 * 86_400,
      last_active_at: expect.any(Number),
      metadata: { a: '1' },
    });
    const others = [
      await owner.vectorStores.create({ name: 'two' }),
      await owner.vectorStores.create({ name: 'three' }),
    ];
    const seen: string[] = [];
    for await (const store of owner.vectorStores.list({ limit: 2 })) seen.push(store.id);
    expect(seen).toEqual([others[1]?.id, others[0]?.id, created.id]);
    const modified = await owner.vectorStores.update(created.id, {
      name: 'renamed',
      expires_after: null,
      metadata: { b: '2' },
    });
    expect(modified).toMatchObject({
      name: 'renamed',
      expires_after: null,
      expires_at: null,
      metadata: { b: '2' },
    });
    expect(await owner.vectorStores.delete(created.id)).toEqual({
      id: created.id,
      object: 'vector_store.deleted',
      deleted: true,
    });
    await expect(owner.vectorStores.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a file id of another project and bad chunking strategies', async () => {
    const { client: stranger } = await stack.newUser('stranger files');
    const mine = await client.files.create({
      file: await textFile('mine.txt', 'mine'),
      purpose: 'assistants',
    });
    const theirs = await stranger.vectorStores.create({});
    await expect(stranger.vectorStores.files.create(theirs.id, { file_id: mine.id })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      client.vectorStores.create({
        file_ids: [mine.id],
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 150 },
        },
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('answers 404 on every store route to another project', async () => {
    await startIngesting();
    const file = await client.files.create({
      file: await textFile('private.txt', RETURNS),
      purpose: 'assistants',
    });
    const store = await client.vectorStores.create({ name: 'private' });
    const batch = await client.vectorStores.fileBatches.createAndPoll(
      store.id,
      { file_ids: [file.id] },
      { pollIntervalMs: 20 },
    );
    const { client: stranger } = await stack.newUser('stranger');
    const ids = { vector_store_id: store.id };
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['retrieve store', () => stranger.vectorStores.retrieve(store.id)],
      ['modify store', () => stranger.vectorStores.update(store.id, { name: 'mine now' })],
      ['search', () => stranger.vectorStores.search(store.id, { query: 'refund' })],
      ['add file', () => stranger.vectorStores.files.create(store.id, { file_id: file.id })],
      ['list files', () => stranger.vectorStores.files.list(store.id)],
      ['retrieve file', () => stranger.vectorStores.files.retrieve(file.id, ids)],
      ['update file', () => stranger.vectorStores.files.update(file.id, { ...ids, attributes: { a: 'b' } })],
      ['remove file', () => stranger.vectorStores.files.delete(file.id, ids)],
      ['create batch', () => stranger.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] })],
      ['retrieve batch', () => stranger.vectorStores.fileBatches.retrieve(batch.id, ids)],
      ['cancel batch', () => stranger.vectorStores.fileBatches.cancel(batch.id, ids)],
      ['list batch files', () => stranger.vectorStores.fileBatches.listFiles(batch.id, ids)],
      ['delete store', () => stranger.vectorStores.delete(store.id)],
      ['retrieve the file', () => stranger.files.retrieve(file.id)],
      ['read the file', () => stranger.files.content(file.id)],
      ['delete the file', () => stranger.files.delete(file.id)],
    ];
    for (const [name, attempt] of attempts) {
      const error = await attempt().then(
        () => null,
        (caught: { status?: number }) => caught,
      );
      expect(error?.status, name).toBe(404);
    }
    expect((await stranger.vectorStores.list()).data).toEqual([]);
    const intact = await client.vectorStores.retrieve(store.id);
    expect(intact).toMatchObject({ name: 'private', file_counts: { completed: 1, total: 1 } });
    expect((await client.vectorStores.search(store.id, { query: 'refund shoes' })).data).toHaveLength(1);
  });
});
