// The ingest worker's jobs on real Postgres and Redis: an embedder that keeps failing is retried, then fails the
// file with server_error (nothing stays in progress); a job for a file removed meanwhile does nothing; a sweep
// queues again a file whose job was lost.
import {
  closeDb,
  createDb,
  createLogger,
  createRedis,
  type Db,
  enqueueIngestion,
  INGEST_QUEUE,
  ingestJobOptions,
  newId,
  queuePrefix,
  type Redis,
  schema,
} from '@threadwork/shared';
import { saveFile } from '@threadwork/shared/files/file-store';
import { addFileToStore } from '@threadwork/shared/files/vector-store-files';
import { AUTO_CHUNKING } from '@threadwork/shared/files/vector-store-wire';
import type { Embedder } from '@threadwork/shared/retrieval/embedder';
import { createTestDatabase, randomPrefix, type TestDatabase, waitFor } from '@threadwork/testing';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIngestProcessor } from '../src/file-ingest.processor.js';

const log = createLogger({ name: 'ingest-test', level: 'silent', pretty: false });
let database: TestDatabase;
let db: Db;
let redis: Redis;
let queue: Queue;
let events: QueueEvents;
let worker: Worker;
let embedCalls = 0;
const projectId = newId('project');
const prefix = queuePrefix(randomPrefix());

const failingEmbedder: Embedder = {
  model: 'down',
  isOffline: false,
  dimensions: 4,
  embed: async () => {
    embedCalls += 1;
    throw new Error('embeddings endpoint unreachable');
  },
};

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 2 });
  await db.insert(schema.projects).values({ id: projectId, name: 'ingest' });
  redis = createRedis(inject('redisUrl'), 'worker', 'ingest-test', log);
  queue = new Queue(INGEST_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: { ...ingestJobOptions, backoff: { type: 'fixed', delay: 10 } },
  });
  events = new QueueEvents(INGEST_QUEUE, { connection: redis.duplicate(), prefix });
  await events.waitUntilReady();
  worker = new Worker(
    INGEST_QUEUE,
    createIngestProcessor({ db, embedder: failingEmbedder, log, queues: { ingest: queue } }),
    {
      connection: redis.duplicate(),
      prefix,
    },
  );
});

afterAll(async () => {
  await worker?.close();
  await events?.close();
  await queue?.close();
  await redis?.quit();
  if (db) await closeDb(db);
  await database?.drop();
});

async function storeWithFile(text: string) {
  const vectorStoreId = newId('vectorStore');
  await db.insert(schema.vectorStores).values({ id: vectorStoreId, ownerId: projectId });
  const file = await saveFile(db, {
    ownerId: projectId,
    filename: 'notes.txt',
    details: { purpose: 'assistants', expiresAt: null },
    content: [Buffer.from(text)],
    maxBytes: 1024,
  });
  const row = await addFileToStore(db, {
    vectorStoreId,
    fileId: file.id,
    ownerId: projectId,
    attributes: null,
    chunkingStrategy: AUTO_CHUNKING,
    batchId: null,
  });
  return { vectorStoreId, fileId: file.id, generation: row.generation };
}

async function storeFileRow(key: { vectorStoreId: string; fileId: string }) {
  const [row] = await db
    .select()
    .from(schema.vectorStoreFiles)
    .where(
      and(
        eq(schema.vectorStoreFiles.vectorStoreId, key.vectorStoreId),
        eq(schema.vectorStoreFiles.fileId, key.fileId),
      ),
    );
  return row;
}

describe('file.ingest jobs', () => {
  it('retries an embedder that fails, then fails the file with server_error after the last attempt', async () => {
    const key = await storeWithFile('Some text worth embedding.');
    const callsBefore = embedCalls;
    await enqueueIngestion({ ingest: queue }, key);
    await waitFor(async () => (await storeFileRow(key))?.status === 'failed', { what: 'the file to fail' });
    expect(embedCalls - callsBefore).toBe(ingestJobOptions.attempts);
    expect((await storeFileRow(key))?.lastError).toEqual({
      code: 'server_error',
      message: 'The file could not be ingested: embeddings endpoint unreachable',
    });
  });

  it('does nothing for a file removed from its store before its job ran', async () => {
    const key = await storeWithFile('Removed before ingestion.');
    await db
      .delete(schema.vectorStoreFiles)
      .where(
        and(
          eq(schema.vectorStoreFiles.vectorStoreId, key.vectorStoreId),
          eq(schema.vectorStoreFiles.fileId, key.fileId),
        ),
      );
    const callsBefore = embedCalls;
    await enqueueIngestion({ ingest: queue }, key);
    const job = await queue.getJob(`${key.vectorStoreId}-${key.fileId}-${key.generation}`);
    expect(await job?.waitUntilFinished(events)).toBe('skipped');
    expect(embedCalls).toBe(callsBefore);
  });

  it('deletes, on a sweep, the files past their expiry and only those', async () => {
    const expired = await storeWithFile('Expired.');
    const kept = await storeWithFile('Kept.');
    await db
      .update(schema.files)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.files.id, expired.fileId));
    const sweep = await queue.add('file.sweep', {});
    expect(await sweep.waitUntilFinished(events)).toMatch(/deleted 1 expired$/);
    const left = await db.select({ id: schema.files.id }).from(schema.files);
    expect(left.map((row) => row.id)).toContain(kept.fileId);
    expect(left.map((row) => row.id)).not.toContain(expired.fileId);
    expect(await storeFileRow(expired)).toBeUndefined();
  });

  it('queues again, on a sweep, a file whose job was lost', async () => {
    const key = await storeWithFile('Its job never reached Redis.');
    const callsBefore = embedCalls;
    const sweep = await queue.add('file.sweep', {});
    expect(await sweep.waitUntilFinished(events)).toMatch(/^queued [1-9]/);
    await waitFor(async () => (await storeFileRow(key))?.status === 'failed', {
      what: 'the swept file to be ingested',
    });
    expect(embedCalls).toBeGreaterThan(callsBefore);
  });
});
