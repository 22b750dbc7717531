// One file's ingestion into one vector store: extract its text, cut it into chunks, embed them and store them, then
// end the file `completed`; a file that cannot be read ends `failed` with why, and nothing else is touched.
import type { Db, IngestJobData, Logger } from '@threadwork/shared';
import { chunkText, type TextChunk } from '@threadwork/shared/files/chunk-text';
import { ExtractionError, extractText } from '@threadwork/shared/files/extract-text';
import { readFileBytes } from '@threadwork/shared/files/file-store';
import {
  endIngestion,
  findIngestionTarget,
  type IngestionTarget,
} from '@threadwork/shared/files/vector-store-files';
import { deleteChunks, saveChunks } from '@threadwork/shared/retrieval/chunk-store';
import type { Embedder } from '@threadwork/shared/retrieval/embedder';

/** Chunks sent to the embedder in one call. */
const EMBED_BATCH = 64;

export interface IngestDeps {
  db: Db;
  embedder: Embedder;
  log: Logger;
}

export type IngestOutcome = 'completed' | 'failed' | 'skipped';

async function embedChunks(embedder: Embedder, chunks: TextChunk[], signal?: AbortSignal) {
  const embedded = [];
  for (let start = 0; start < chunks.length; start += EMBED_BATCH) {
    const batch = chunks.slice(start, start + EMBED_BATCH);
    const vectors = await embedder.embed(
      batch.map((chunk) => chunk.text),
      signal,
    );
    embedded.push(...batch.map((chunk, index) => ({ ...chunk, embedding: vectors[index] ?? [] })));
  }
  return embedded;
}

async function storeChunks(deps: IngestDeps, target: IngestionTarget, text: string): Promise<number> {
  const { storeFile, file } = target;
  const chunks = chunkText(text, storeFile.chunkingStrategy);
  await saveChunks(deps.db, {
    projectId: storeFile.ownerId,
    vectorStoreId: storeFile.vectorStoreId,
    fileId: file.id,
    filename: file.filename,
    attributes: storeFile.attributes,
    chunks: await embedChunks(deps.embedder, chunks),
  });
  return chunks.reduce((total, chunk) => total + Buffer.byteLength(chunk.text), 0);
}

/**
 * Ingests the file unless this adding of it is no longer waiting (removed, cancelled, added again, file deleted):
 * then it does nothing. Chunks written for an adding that ended meanwhile are removed again.
 */
export async function ingestFile(deps: IngestDeps, job: IngestJobData): Promise<IngestOutcome> {
  const target = await findIngestionTarget(deps.db, job);
  if (!target) return 'skipped';
  const bytes = await readFileBytes(deps.db, target.file);
  let text: string;
  try {
    text = await extractText(target.file.filename, bytes);
  } catch (error) {
    if (!(error instanceof ExtractionError)) throw error;
    await endIngestion(deps.db, job, {
      status: 'failed',
      lastError: { code: error.code, message: error.message },
    });
    return 'failed';
  }
  const usageBytes = await storeChunks(deps, target, text);
  if (await endIngestion(deps.db, job, { status: 'completed', usageBytes })) return 'completed';
  await deleteChunks(deps.db, { vectorStoreId: job.vectorStoreId, fileId: job.fileId });
  return 'skipped';
}

/** After the last attempt at an error of the moment (the embedder, Postgres), the file fails instead of waiting. */
export async function failIngestion(deps: IngestDeps, job: IngestJobData, error: unknown): Promise<void> {
  const message = `The file could not be ingested: ${(error as Error).message ?? String(error)}`;
  await endIngestion(deps.db, job, { status: 'failed', lastError: { code: 'server_error', message } });
}
