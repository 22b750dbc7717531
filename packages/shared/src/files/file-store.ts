// Where files' bytes live: Postgres, in parts of FILE_PART_BYTES, written and read as streams so that no file sits
// whole in memory. The API's /v1/files, the ingest worker and tools that write output files all go through here.
import { Readable } from 'node:stream';
import { and, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { fileParts, files } from '../db/schema.js';
import { newId } from '../ids.js';
import { deleteChunks } from '../retrieval/chunk-store.js';
import type { FilePurpose } from './file-purposes.js';

export const FILE_PART_BYTES = 1024 * 1024;

export type FileRow = typeof files.$inferSelect;

/** A file larger than its limit: the file size limit, or what is left of its project's quota. */
export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';
  constructor(
    readonly limit: 'file_size' | 'project_quota',
    readonly limitBytes: number,
  ) {
    super(`file exceeds the ${limit} limit of ${limitBytes} bytes`);
  }
}

/** What a file is for and until when. */
export interface FileDetails {
  purpose: FilePurpose;
  expiresAt: Date | null;
}

export interface NewFile {
  ownerId: string;
  filename: string;
  /** May settle only after the content has arrived (a multipart form may name the purpose after the file); a
   * rejection undoes the stored parts. */
  details: FileDetails | Promise<FileDetails>;
  content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  maxBytes: number;
  /** The most bytes the project's files may hold together; none: no quota. */
  quotaBytes?: number;
}

type Transaction = Parameters<Parameters<Db['transaction']>[0]>[0];

async function bytesHeldBy(tx: Transaction, ownerId: string): Promise<number> {
  const [row] = await tx
    .select({ total: sql<string | null>`sum(${files.bytes})` })
    .from(files)
    .where(eq(files.ownerId, ownerId));
  return Number(row?.total ?? 0);
}

/** Cuts a stream of buffers into parts of exactly `size` bytes (the last one shorter). */
async function* partsOf(
  content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of content) {
    pending.push(Buffer.from(chunk));
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= size) {
      const joined = Buffer.concat(pending, pendingBytes);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      pendingBytes -= size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/**
 * Stores a file in one transaction, part by part as it arrives: a file cut off, too large or without a valid purpose
 * leaves nothing behind (nor do refused details). Two uploads of one project at the same instant may together pass its quota.
 */
export function saveFile(db: Db, file: NewFile): Promise<FileRow> {
  return db.transaction(async (tx) => {
    const quotaLeft =
      file.quotaBytes === undefined
        ? Number.POSITIVE_INFINITY
        : file.quotaBytes - (await bytesHeldBy(tx, file.ownerId));
    const id = newId('file');
    // The purpose is set once known; inside the transaction nobody sees the row before.
    await tx
      .insert(files)
      .values({ id, ownerId: file.ownerId, filename: file.filename, purpose: 'assistants', bytes: 0 });
    let bytes = 0;
    let partIndex = 0;
    for await (const part of partsOf(file.content, FILE_PART_BYTES)) {
      bytes += part.length;
      if (bytes > file.maxBytes) throw new FileTooLargeError('file_size', file.maxBytes);
      if (bytes > quotaLeft) throw new FileTooLargeError('project_quota', file.quotaBytes ?? 0);
      await tx.insert(fileParts).values({ fileId: id, partIndex, data: part });
      partIndex += 1;
    }
    const { purpose, expiresAt } = await file.details;
    const [row] = await tx
      .update(files)
      .set({ purpose, bytes, expiresAt })
      .where(eq(files.id, id))
      .returning();
    if (!row) throw new Error('file row vanished inside its transaction');
    return row;
  });
}

/** A file of the project, unless it has expired. */
export async function findFile(db: Db, key: { ownerId: string; fileId: string }): Promise<FileRow | null> {
  const [row] = await db
    .select()
    .from(files)
    .where(
      and(
        eq(files.id, key.fileId),
        eq(files.ownerId, key.ownerId),
        or(isNull(files.expiresAt), gt(files.expiresAt, sql`now()`)),
      ),
    );
  return row ?? null;
}

async function readPart(db: Db, fileId: string, partIndex: number): Promise<Buffer> {
  const [row] = await db
    .select({ data: fileParts.data })
    .from(fileParts)
    .where(and(eq(fileParts.fileId, fileId), eq(fileParts.partIndex, partIndex)));
  if (!row) throw new Error(`file ${fileId} has no part ${partIndex}; it was deleted while being read`);
  return row.data;
}

/** The file's bytes as a stream that reads one part at a time, when the reader asks for more. */
export function readFileStream(db: Db, file: FileRow): Readable {
  const partCount = Math.ceil(file.bytes / FILE_PART_BYTES);
  return Readable.from(
    (async function* () {
      for (let partIndex = 0; partIndex < partCount; partIndex += 1)
        yield await readPart(db, file.id, partIndex);
    })(),
    { objectMode: false },
  );
}

/** The whole file in memory: for readers that need it whole (a PDF or docx parser), bounded by FILE_MAX_BYTES. */
export async function readFileBytes(db: Db, file: FileRow): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readFileStream(db, file)) parts.push(part as Buffer);
  return Buffer.concat(parts, file.bytes);
}

/**
 * Deletes a file of the project with its parts, its place in every vector store and its chunks. The chunks go first:
 * an ingestion still running then finds its file gone and removes what it wrote (see the ingest worker).
 */
export async function deleteFile(db: Db, key: { ownerId: string; fileId: string }): Promise<boolean> {
  const file = await findFile(db, key);
  if (!file) return false;
  await deleteChunks(db, { fileId: file.id });
  const deleted = await db
    .delete(files)
    .where(and(eq(files.id, file.id), eq(files.ownerId, key.ownerId)))
    .returning({ id: files.id });
  return deleted.length > 0;
}

/** Deletes up to `limit` files past their `expires_at` (with their chunks), as deleteFile does; answers how many. */
export async function deleteExpiredFiles(db: Db, limit: number): Promise<number> {
  const expired = await db
    .select({ id: files.id })
    .from(files)
    .where(lte(files.expiresAt, sql`now()`))
    .limit(limit);
  for (const file of expired) {
    await deleteChunks(db, { fileId: file.id });
    await db.delete(files).where(eq(files.id, file.id));
  }
  return expired.length;
}
