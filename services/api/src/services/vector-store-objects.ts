// Vector stores, their files and batches as the wire shows them: statuses and file counts read from the files.
import type { VectorStoreFileRow } from '@threadwork/shared/files/vector-store-files';
import type { FileBatchRow, FileTally, VectorStoreRow } from '../repositories/vector-stores.js';
import type {
  FileBatchObject,
  FileCounts,
  VectorStoreFileObject,
  VectorStoreObject,
} from '../schemas/vector-stores.js';

const DAY_MS = 24 * 3600 * 1000;

function unix(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

function toFileCounts(tally: FileTally): FileCounts {
  const { counts } = tally;
  return { ...counts, total: counts.in_progress + counts.completed + counts.failed + counts.cancelled };
}

export function expiresAtOf(row: VectorStoreRow): Date | null {
  if (row.expiresAfterDays === null) return null;
  return new Date(row.lastActiveAt.getTime() + row.expiresAfterDays * DAY_MS);
}

export function isExpired(row: VectorStoreRow, now = new Date()): boolean {
  const expiresAt = expiresAtOf(row);
  return expiresAt !== null && expiresAt <= now;
}

export function toVectorStoreObject(row: VectorStoreRow, tally: FileTally): VectorStoreObject {
  const expiresAt = expiresAtOf(row);
  const status = isExpired(row) ? 'expired' : tally.counts.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: row.id,
    object: 'vector_store',
    created_at: unix(row.createdAt),
    name: row.name,
    description: row.description,
    usage_bytes: tally.usageBytes,
    file_counts: toFileCounts(tally),
    status,
    expires_after:
      row.expiresAfterDays === null ? null : { anchor: 'last_active_at', days: row.expiresAfterDays },
    expires_at: expiresAt === null ? null : unix(expiresAt),
    last_active_at: unix(row.lastActiveAt),
    metadata: row.metadata,
  };
}

export function toVectorStoreFileObject(row: VectorStoreFileRow): VectorStoreFileObject {
  return {
    id: row.fileId,
    object: 'vector_store.file',
    created_at: unix(row.createdAt),
    vector_store_id: row.vectorStoreId,
    status: row.status,
    usage_bytes: row.usageBytes,
    last_error: row.lastError,
    chunking_strategy: { type: 'static', static: row.chunkingStrategy },
    attributes: row.attributes,
  };
}

/** A batch is cancelled once cancelled, in progress while any of its files is, and completed after. */
export function toFileBatchObject(row: FileBatchRow, tally: FileTally): FileBatchObject {
  const status = row.cancelledAt ? 'cancelled' : tally.counts.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: row.id,
    object: 'vector_store.files_batch',
    created_at: unix(row.createdAt),
    vector_store_id: row.vectorStoreId,
    status,
    file_counts: toFileCounts(tally),
  };
}
