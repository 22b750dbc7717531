// Files in vector stores: adding one (or a batch) stores its row `in_progress` and enqueues its ingestion; listing,
// reading, changing attributes, removing (with its chunks) and cancelling batches.
import { ApiError, enqueueIngestion, newId, notFound } from '@threadwork/shared';
import { findFile } from '@threadwork/shared/files/file-store';
import {
  addFileToStore,
  endIngestion,
  type VectorStoreFileRow,
} from '@threadwork/shared/files/vector-store-files';
import {
  AUTO_CHUNKING,
  type FileAttributes,
  type StaticChunking,
} from '@threadwork/shared/files/vector-store-wire';
import { deleteChunks, updateChunkAttributes } from '@threadwork/shared/retrieval/chunk-store';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { toPage } from '../repositories/pagination.js';
import {
  cancelBatchRow,
  deleteStoreFile,
  type FileBatchRow,
  findBatch,
  findStoreFile,
  findVectorStore,
  insertBatch,
  listStoreFileRows,
  tallyBatches,
  touchVectorStore,
  updateStoreFileAttributes,
  type VectorStoreRow,
} from '../repositories/vector-stores.js';
import type {
  AddStoreFileInput,
  CreateFileBatchInput,
  ListStoreFilesQuery,
} from '../schemas/vector-stores.js';
import { toFileBatchObject, toVectorStoreFileObject } from './vector-store-objects.js';

export async function storeOf(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
): Promise<VectorStoreRow> {
  const store = await findVectorStore(deps.db, principal.projectId, vectorStoreId);
  if (!store) throw notFound('vector store', vectorStoreId);
  return store;
}

export interface FileToIngest {
  fileId: string;
  attributes: FileAttributes | null;
  chunkingStrategy: StaticChunking;
}

/** Checks that every file is the project's before adding any. */
async function checkFiles(deps: AppDeps, principal: Principal, fileIds: string[]): Promise<void> {
  for (const fileId of new Set(fileIds)) {
    const file = await findFile(deps.db, { ownerId: principal.projectId, fileId });
    if (!file) throw new ApiError(404, `No file found with id '${fileId}'.`, { param: 'file_id' });
  }
}

/** Persists the row, then enqueues its job; a job that cannot be queued fails the file instead of leaving it waiting. */
async function addAndEnqueue(
  deps: AppDeps,
  principal: Principal,
  store: VectorStoreRow,
  file: FileToIngest,
  batchId: string | null,
): Promise<VectorStoreFileRow> {
  const row = await addFileToStore(deps.db, {
    vectorStoreId: store.id,
    ownerId: principal.projectId,
    batchId,
    ...file,
  });
  const key = { vectorStoreId: store.id, fileId: file.fileId, generation: row.generation };
  try {
    await enqueueIngestion(deps.queues, key);
  } catch (error) {
    await endIngestion(deps.db, key, {
      status: 'failed',
      lastError: {
        code: 'server_error',
        message: 'The ingestion job could not be queued; add the file again.',
      },
    });
    throw error;
  }
  return row;
}

export async function addFilesToStore(
  deps: AppDeps,
  principal: Principal,
  store: VectorStoreRow,
  files: FileToIngest[],
  batchId: string | null = null,
): Promise<VectorStoreFileRow[]> {
  await checkFiles(
    deps,
    principal,
    files.map((file) => file.fileId),
  );
  const rows: VectorStoreFileRow[] = [];
  for (const file of files) rows.push(await addAndEnqueue(deps, principal, store, file, batchId));
  await touchVectorStore(deps.db, principal.projectId, store.id);
  return rows;
}

export async function addStoreFile(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  input: AddStoreFileInput,
) {
  const store = await storeOf(deps, principal, vectorStoreId);
  const [row] = await addFilesToStore(deps, principal, store, [
    {
      fileId: input.file_id,
      attributes: input.attributes ?? null,
      chunkingStrategy: input.chunking_strategy ?? AUTO_CHUNKING,
    },
  ]);
  if (!row) throw new Error('a file was added but no row came back');
  return toVectorStoreFileObject(row);
}

async function storeFileOf(deps: AppDeps, principal: Principal, vectorStoreId: string, fileId: string) {
  await storeOf(deps, principal, vectorStoreId);
  const row = await findStoreFile(deps.db, principal.projectId, vectorStoreId, fileId);
  if (!row) throw notFound('vector store file', fileId);
  return row;
}

export async function retrieveStoreFile(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  fileId: string,
) {
  return toVectorStoreFileObject(await storeFileOf(deps, principal, vectorStoreId, fileId));
}

export async function listStoreFiles(
  deps: AppDeps,
  principal: Principal,
  scope: { vectorStoreId: string; batchId?: string },
  query: ListStoreFilesQuery,
) {
  await storeOf(deps, principal, scope.vectorStoreId);
  if (scope.batchId !== undefined) await batchOf(deps, principal, scope.vectorStoreId, scope.batchId);
  const rows = await listStoreFileRows(deps.db, { ownerId: principal.projectId, ...scope }, query);
  return toPage(rows.map(toVectorStoreFileObject), query);
}

export async function updateStoreFile(
  deps: AppDeps,
  principal: Principal,
  key: { vectorStoreId: string; fileId: string },
  attributes: FileAttributes | null,
) {
  await storeFileOf(deps, principal, key.vectorStoreId, key.fileId);
  const row = await updateStoreFileAttributes(deps.db, principal.projectId, key, attributes);
  if (!row) throw notFound('vector store file', key.fileId);
  await updateChunkAttributes(deps.db, { ...key, attributes });
  return toVectorStoreFileObject(row);
}

/** Removes the file from the store (its chunks first); the file itself stays. */
export async function removeStoreFile(
  deps: AppDeps,
  principal: Principal,
  key: { vectorStoreId: string; fileId: string },
): Promise<void> {
  await storeFileOf(deps, principal, key.vectorStoreId, key.fileId);
  await deleteChunks(deps.db, key);
  if (!(await deleteStoreFile(deps.db, principal.projectId, key)))
    throw notFound('vector store file', key.fileId);
}

function filesOfBatch(input: CreateFileBatchInput): FileToIngest[] {
  const shared = {
    attributes: input.attributes ?? null,
    chunkingStrategy: input.chunking_strategy ?? AUTO_CHUNKING,
  };
  if (input.files) {
    return input.files.map((file) => ({
      fileId: file.file_id,
      attributes: file.attributes === undefined ? shared.attributes : file.attributes,
      chunkingStrategy: file.chunking_strategy ?? shared.chunkingStrategy,
    }));
  }
  return [...new Set(input.file_ids ?? [])].map((fileId) => ({ fileId, ...shared }));
}

async function batchObject(deps: AppDeps, batch: FileBatchRow) {
  const tallies = await tallyBatches(deps.db, [batch.id]);
  const tally = tallies.get(batch.id);
  if (!tally) throw new Error('a batch without its tally');
  return toFileBatchObject(batch, tally);
}

export async function createFileBatch(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  input: CreateFileBatchInput,
) {
  const store = await storeOf(deps, principal, vectorStoreId);
  const files = filesOfBatch(input);
  await checkFiles(
    deps,
    principal,
    files.map((file) => file.fileId),
  );
  const batch = await insertBatch(deps.db, {
    id: newId('fileBatch'),
    vectorStoreId: store.id,
    ownerId: principal.projectId,
  });
  await addFilesToStore(deps, principal, store, files, batch.id);
  return batchObject(deps, batch);
}

async function batchOf(deps: AppDeps, principal: Principal, vectorStoreId: string, batchId: string) {
  const batch = await findBatch(deps.db, principal.projectId, vectorStoreId, batchId);
  if (!batch) throw notFound('vector store file batch', batchId);
  return batch;
}

export async function retrieveFileBatch(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  batchId: string,
) {
  await storeOf(deps, principal, vectorStoreId);
  return batchObject(deps, await batchOf(deps, principal, vectorStoreId, batchId));
}

export async function cancelFileBatch(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  batchId: string,
) {
  await storeOf(deps, principal, vectorStoreId);
  const batch = await batchOf(deps, principal, vectorStoreId, batchId);
  return batchObject(deps, await cancelBatchRow(deps.db, batch));
}
