// Data access for vector stores, their file batches and the files in them: the owner (the project) in every where.
import { type Db, schema } from '@threadwork/shared';
import type { VectorStoreFileRow } from '@threadwork/shared/files/vector-store-files';
import type { FileAttributes, VectorStoreFileStatus } from '@threadwork/shared/files/vector-store-wire';
import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { ListQuery } from '../schemas/common.js';
import type { ListStoreFilesQuery } from '../schemas/vector-stores.js';
import { pageQuery } from './pagination.js';

const { vectorStores, vectorStoreFiles, vectorStoreFileBatches } = schema;

export type VectorStoreRow = typeof vectorStores.$inferSelect;
export type NewVectorStore = typeof vectorStores.$inferInsert;
export type FileBatchRow = typeof vectorStoreFileBatches.$inferSelect;

export interface FileTally {
  counts: Record<VectorStoreFileStatus, number>;
  usageBytes: number;
}

export async function insertVectorStore(db: Db, values: NewVectorStore): Promise<VectorStoreRow> {
  const [row] = await db.insert(vectorStores).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

function storeById(ownerId: string, id: string): SQL | undefined {
  return and(eq(vectorStores.id, id), eq(vectorStores.ownerId, ownerId));
}

export async function findVectorStore(db: Db, ownerId: string, id: string): Promise<VectorStoreRow | null> {
  const [row] = await db.select().from(vectorStores).where(storeById(ownerId, id));
  return row ?? null;
}

export function listVectorStoreRows(db: Db, ownerId: string, query: ListQuery): Promise<VectorStoreRow[]> {
  const page = pageQuery(vectorStores.id, query, eq(vectorStores.ownerId, ownerId));
  return db.select().from(vectorStores).where(page.where).orderBy(page.orderBy).limit(page.limit);
}

export async function updateVectorStore(
  db: Db,
  ownerId: string,
  id: string,
  patch: Partial<NewVectorStore>,
): Promise<VectorStoreRow | null> {
  const [row] = await db.update(vectorStores).set(patch).where(storeById(ownerId, id)).returning();
  return row ?? null;
}

/** Marks the store used now: its expiry counts from here. */
export async function touchVectorStore(db: Db, ownerId: string, id: string): Promise<void> {
  await db.update(vectorStores).set({ lastActiveAt: sql`now()` }).where(storeById(ownerId, id));
}

export async function deleteVectorStoreRow(db: Db, ownerId: string, id: string): Promise<boolean> {
  const rows = await db.delete(vectorStores).where(storeById(ownerId, id)).returning({ id: vectorStores.id });
  return rows.length > 0;
}

function emptyTally(): FileTally {
  return { counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0 }, usageBytes: 0 };
}

/** The files of each group by status, and the bytes of text they hold, in one query. */
async function tallyBy(
  db: Db,
  group: typeof vectorStoreFiles.vectorStoreId | typeof vectorStoreFiles.batchId,
  ids: string[],
) {
  const tallies = new Map<string, FileTally>(ids.map((id) => [id, emptyTally()]));
  if (ids.length === 0) return tallies;
  const rows = await db
    .select({
      groupId: group,
      status: vectorStoreFiles.status,
      count: sql<number>`count(*)::int`,
      usageBytes: sql<string>`coalesce(sum(${vectorStoreFiles.usageBytes}), 0)`,
    })
    .from(vectorStoreFiles)
    .where(inArray(group, ids))
    .groupBy(group, vectorStoreFiles.status);
  for (const row of rows) {
    const tally = row.groupId === null ? undefined : tallies.get(row.groupId);
    if (!tally) continue;
    tally.counts[row.status] = row.count;
    tally.usageBytes += Number(row.usageBytes);
  }
  return tallies;
}

export function tallyStores(db: Db, storeIds: string[]): Promise<Map<string, FileTally>> {
  return tallyBy(db, vectorStoreFiles.vectorStoreId, storeIds);
}

export function tallyBatches(db: Db, batchIds: string[]): Promise<Map<string, FileTally>> {
  return tallyBy(db, vectorStoreFiles.batchId, batchIds);
}

export async function fileIdsInStore(db: Db, vectorStoreId: string): Promise<string[]> {
  const rows = await db
    .select({ fileId: vectorStoreFiles.fileId })
    .from(vectorStoreFiles)
    .where(eq(vectorStoreFiles.vectorStoreId, vectorStoreId));
  return rows.map((row) => row.fileId);
}

function storeFileByKey(ownerId: string, vectorStoreId: string, fileId: string): SQL | undefined {
  return and(
    eq(vectorStoreFiles.ownerId, ownerId),
    eq(vectorStoreFiles.vectorStoreId, vectorStoreId),
    eq(vectorStoreFiles.fileId, fileId),
  );
}

export async function findStoreFile(
  db: Db,
  ownerId: string,
  vectorStoreId: string,
  fileId: string,
): Promise<VectorStoreFileRow | null> {
  const [row] = await db
    .select()
    .from(vectorStoreFiles)
    .where(storeFileByKey(ownerId, vectorStoreId, fileId));
  return row ?? null;
}

/** A page of a store's files (of one batch, when given), ordered by file id. */
export function listStoreFileRows(
  db: Db,
  scope: { ownerId: string; vectorStoreId: string; batchId?: string },
  query: ListStoreFilesQuery,
): Promise<VectorStoreFileRow[]> {
  const where = and(
    eq(vectorStoreFiles.ownerId, scope.ownerId),
    eq(vectorStoreFiles.vectorStoreId, scope.vectorStoreId),
    scope.batchId === undefined ? undefined : eq(vectorStoreFiles.batchId, scope.batchId),
    query.filter === undefined ? undefined : eq(vectorStoreFiles.status, query.filter),
  );
  const page = pageQuery(vectorStoreFiles.fileId, query, where);
  return db.select().from(vectorStoreFiles).where(page.where).orderBy(page.orderBy).limit(page.limit);
}

export async function updateStoreFileAttributes(
  db: Db,
  ownerId: string,
  key: { vectorStoreId: string; fileId: string },
  attributes: FileAttributes | null,
): Promise<VectorStoreFileRow | null> {
  const [row] = await db
    .update(vectorStoreFiles)
    .set({ attributes })
    .where(storeFileByKey(ownerId, key.vectorStoreId, key.fileId))
    .returning();
  return row ?? null;
}

export async function deleteStoreFile(
  db: Db,
  ownerId: string,
  key: { vectorStoreId: string; fileId: string },
): Promise<boolean> {
  const rows = await db
    .delete(vectorStoreFiles)
    .where(storeFileByKey(ownerId, key.vectorStoreId, key.fileId))
    .returning({ fileId: vectorStoreFiles.fileId });
  return rows.length > 0;
}

export async function insertBatch(
  db: Db,
  values: typeof vectorStoreFileBatches.$inferInsert,
): Promise<FileBatchRow> {
  const [row] = await db.insert(vectorStoreFileBatches).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findBatch(
  db: Db,
  ownerId: string,
  vectorStoreId: string,
  batchId: string,
): Promise<FileBatchRow | null> {
  const [row] = await db
    .select()
    .from(vectorStoreFileBatches)
    .where(
      and(
        eq(vectorStoreFileBatches.id, batchId),
        eq(vectorStoreFileBatches.vectorStoreId, vectorStoreId),
        eq(vectorStoreFileBatches.ownerId, ownerId),
      ),
    );
  return row ?? null;
}

/** Cancels a batch and every file of it still being ingested (their jobs then find nothing to do). */
export async function cancelBatchRow(db: Db, batch: FileBatchRow): Promise<FileBatchRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(vectorStoreFileBatches)
      .set({ cancelledAt: sql`now()` })
      .where(and(eq(vectorStoreFileBatches.id, batch.id), isNull(vectorStoreFileBatches.cancelledAt)))
      .returning();
    await tx
      .update(vectorStoreFiles)
      .set({ status: 'cancelled' })
      .where(and(eq(vectorStoreFiles.batchId, batch.id), eq(vectorStoreFiles.status, 'in_progress')));
    return row ?? batch;
  });
}
