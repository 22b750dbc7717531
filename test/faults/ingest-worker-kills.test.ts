// The ingest worker SIGKILLed while it ingests a file: once the job's lock expires another ingest worker takes the
// file over, and it ends completed with each chunk stored once; nothing stays in progress.
import { createLogger } from '@threadwork/shared';
import { chunkText } from '@threadwork/shared/files/chunk-text';
import { AUTO_CHUNKING } from '@threadwork/shared/files/vector-store-wire';
import { waitFor } from '@threadwork/testing';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestWorker, startIngestWorker } from '../../services/ingest-worker/src/worker.js';
import { ChildWorker } from '../support/fault-runs.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;
let child: ChildWorker;
let takeover: IngestWorker | undefined;
let pool: pg.Pool;

beforeAll(async () => {
  stack = await startStack(
    { INGEST_JOB_LOCK_MS: '1000' },
    { runWorker: false, toolWorker: false, ingestWorker: false },
  );
  ({ client } = await stack.newUser('ingest kills'));
  child = new ChildWorker(stack, 'ingest-worker');
  pool = new pg.Pool({ connectionString: stack.database.url, max: 1 });
});

afterAll(async () => {
  await child?.kill();
  await takeover?.close();
  await pool?.end();
  await stack?.close();
});

/** About 2 MB of sentences, one of them unlike the rest: long enough to ingest that the kill lands mid-way. */
function longText(): string {
  return Array.from({ length: 25_000 }, (_, index) =>
    index === 12_345
      ? 'The spare kettle lids are kept in the Zanzibar warehouse.'
      : `Paragraph ${index} says that item ${index * 7} ships from depot ${index % 97} on day ${index % 31}.`,
  ).join('\n');
}

describe('an ingest worker killed mid-ingestion', () => {
  it('hands the file to another worker, which completes it with each chunk once', async () => {
    await child.start();
    const text = longText();
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'long.md'),
      purpose: 'assistants',
    });
    const store = await client.vectorStores.create({ name: 'long' });
    await client.vectorStores.files.create(store.id, { file_id: file.id });
    const queue = stack.api.deps.queues.ingest;
    await waitFor(async () => (await queue.getActiveCount()) > 0, { what: 'the child to take the job' });
    await child.kill();
    expect((await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).status).toBe(
      'in_progress',
    );

    takeover = await startIngestWorker(
      stack.config,
      createLogger({ name: 'takeover', level: 'silent', pretty: false }),
    );
    const ended = await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 100 });
    expect(ended).toMatchObject({ status: 'completed', last_error: null });
    const { rows } = await pool.query<{ chunks: number; distinct: number }>(
      'select count(*)::int as chunks, count(distinct chunk_index)::int as distinct from vector_store_chunks where file_id = $1',
      [file.id],
    );
    const expected = chunkText(text, AUTO_CHUNKING).length;
    expect(rows[0]).toEqual({ chunks: expected, distinct: expected });
    const found = await client.vectorStores.search(store.id, {
      query: 'Where are the spare kettle lids kept?',
    });
    expect(found.data[0]?.content[0]?.text).toContain('Zanzibar warehouse');
  }, 60_000);
});
