// Data access for files in vector stores, shared by the API (adding, cancelling) and the ingest worker (ending an
// ingestion): every write that ends an ingestion is a compare-and-set on its generation and status.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { files, vectorStoreFiles, vectorStores } from '../db/schema.js';
import type { FileAttributes, IngestError, StaticChunking } from './vector-store-wire.js';

export type VectorStoreFileRow = typeof vectorStoreFiles.$inferSelect;

export interface StoreFileKey {
  vectorStoreId: string;
  fileId: string;
}

export interface FileToAdd extends StoreFileKey {
  ownerId: string;
  attributes: FileAttributes | null;
  chunkingStrategy: StaticChunking;
  batchId: string | null;
}

/** Adds a file to a store, or adds it again (a new generation, ingested anew); the row is `in_progress`. */
export async function addFileToStore(db: Db, file: FileToAdd): Promise<VectorStoreFileRow> {
  const [row] = await db
    .insert(vectorStoreFiles)
    .values({ ...file, status: 'in_progress' })
    .onConflictDoUpdate({
      target: [vectorStoreFiles.vectorStoreId, vectorStoreFiles.fileId],
      set: {
        status: 'in_progress',
        lastError: null,
        usageBytes: 0,
        attributes: file.attributes,
        chunkingStrategy: file.chunkingStrategy,
        batchId: file.batchId,
        generation: sql`${vectorStoreFiles.generation} + 1`,
      },
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export interface IngestionTarget {
  storeFile: VectorStoreFileRow;
  file: typeof files.$inferSelect;
}

/** The file to ingest, when this generation of it is still waiting for its ingestion (not ended, removed or cancelled). */
export async function findIngestionTarget(
  db: Db,
  key: StoreFileKey & { generation: number },
): Promise<IngestionTarget | null> {
  const [row] = await db
    .select({ storeFile: vectorStoreFiles, file: files })
    .from(vectorStoreFiles)
    .innerJoin(files, eq(files.id, vectorStoreFiles.fileId))
    .innerJoin(vectorStores, eq(vectorStores.id, vectorStoreFiles.vectorStoreId))
    .where(
      and(
        eq(vectorStoreFiles.vectorStoreId, key.vectorStoreId),
        eq(vectorStoreFiles.fileId, key.fileId),
        eq(vectorStoreFiles.generation, key.generation),
        eq(vectorStoreFiles.status, 'in_progress'),
      ),
    );
  return row ?? null;
}

/** Files still waiting for their ingestion, oldest first: what the ingest sweeper queues again. */
export async function waitingIngestions(
  db: Db,
  limit: number,
): Promise<Array<StoreFileKey & { generation: number }>> {
  return db
    .select({
      vectorStoreId: vectorStoreFiles.vectorStoreId,
      fileId: vectorStoreFiles.fileId,
      generation: vectorStoreFiles.generation,
    })
    .from(vectorStoreFiles)
    .where(eq(vectorStoreFiles.status, 'in_progress'))
    .orderBy(vectorStoreFiles.createdAt)
    .limit(limit);
}

export type IngestionOutcome =
  | { status: 'completed'; usageBytes: number }
  | { status: 'failed'; lastError: IngestError };

/** Ends this generation's ingestion; false when it was cancelled, removed or added again meanwhile. */
export async function endIngestion(
  db: Db,
  key: StoreFileKey & { generation: number },
  outcome: IngestionOutcome,
): Promise<boolean> {
  const rows = await db
    .update(vectorStoreFiles)
    .set(
      outcome.status === 'completed'
        ? { status: 'completed', usageBytes: outcome.usageBytes }
        : { status: 'failed', lastError: outcome.lastError },
    )
    .where(
      and(
        eq(vectorStoreFiles.vectorStoreId, key.vectorStoreId),
        eq(vectorStoreFiles.fileId, key.fileId),
        eq(vectorStoreFiles.generation, key.generation),
        eq(vectorStoreFiles.status, 'in_progress'),
      ),
    )
    .returning({ fileId: vectorStoreFiles.fileId });
  return rows.length > 0;
}
