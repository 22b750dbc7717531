// Vector stores: create (with files), list, retrieve, modify, delete (with their chunks) and search.
import { ApiError, newId } from '@threadwork/shared';
import { AUTO_CHUNKING } from '@threadwork/shared/files/vector-store-wire';
import { deleteChunks, searchChunks } from '@threadwork/shared/retrieval/chunk-store';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { toPage } from '../repositories/pagination.js';
import { definedOnly } from '../repositories/patch.js';
import {
  deleteVectorStoreRow,
  fileIdsInStore,
  insertVectorStore,
  listVectorStoreRows,
  tallyStores,
  touchVectorStore,
  updateVectorStore,
  type VectorStoreRow,
} from '../repositories/vector-stores.js';
import type { ListQuery } from '../schemas/common.js';
import type {
  CreateVectorStoreInput,
  ModifyVectorStoreInput,
  SearchResultsPage,
  SearchVectorStoreInput,
} from '../schemas/vector-stores.js';
import { addFilesToStore, storeOf } from './vector-store-files.js';
import { isExpired, toVectorStoreObject } from './vector-store-objects.js';

async function toObjects(deps: AppDeps, rows: VectorStoreRow[]) {
  const tallies = await tallyStores(
    deps.db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => {
    const tally = tallies.get(row.id);
    if (!tally) throw new Error('a vector store without its tally');
    return toVectorStoreObject(row, tally);
  });
}

async function toObject(deps: AppDeps, row: VectorStoreRow) {
  const [object] = await toObjects(deps, [row]);
  if (!object) throw new Error('a vector store without its object');
  return object;
}

export async function createVectorStore(deps: AppDeps, principal: Principal, input: CreateVectorStoreInput) {
  const store = await insertVectorStore(deps.db, {
    id: newId('vectorStore'),
    ownerId: principal.projectId,
    name: input.name ?? '',
    description: input.description ?? null,
    metadata: input.metadata ?? {},
    expiresAfterDays: input.expires_after?.days ?? null,
  });
  const fileIds = [...new Set(input.file_ids ?? [])];
  const chunkingStrategy = input.chunking_strategy ?? AUTO_CHUNKING;
  try {
    await addFilesToStore(
      deps,
      principal,
      store,
      fileIds.map((fileId) => ({ fileId, attributes: null, chunkingStrategy })),
    );
  } catch (error) {
    await deleteVectorStoreRow(deps.db, principal.projectId, store.id);
    throw error;
  }
  return toObject(deps, store);
}

export async function listVectorStores(deps: AppDeps, principal: Principal, query: ListQuery) {
  const rows = await listVectorStoreRows(deps.db, principal.projectId, query);
  const page = toPage(rows, query);
  return { ...page, data: await toObjects(deps, page.data) };
}

export async function retrieveVectorStore(deps: AppDeps, principal: Principal, vectorStoreId: string) {
  return toObject(deps, await storeOf(deps, principal, vectorStoreId));
}

export async function modifyVectorStore(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  input: ModifyVectorStoreInput,
) {
  const existing = await storeOf(deps, principal, vectorStoreId);
  const patch = definedOnly({
    name: input.name === null ? '' : input.name,
    metadata: input.metadata === null ? {} : input.metadata,
    expiresAfterDays: input.expires_after === undefined ? undefined : (input.expires_after?.days ?? null),
  });
  const row = patch ? await updateVectorStore(deps.db, principal.projectId, existing.id, patch) : existing;
  return toObject(deps, row ?? existing);
}

/** Deletes the store, its files' places in it and their chunks; the files themselves stay. */
export async function removeVectorStore(deps: AppDeps, principal: Principal, vectorStoreId: string) {
  const store = await storeOf(deps, principal, vectorStoreId);
  for (const fileId of await fileIdsInStore(deps.db, store.id)) {
    await deleteChunks(deps.db, { vectorStoreId: store.id, fileId });
  }
  await deleteVectorStoreRow(deps.db, principal.projectId, store.id);
}

export async function searchVectorStore(
  deps: AppDeps,
  principal: Principal,
  vectorStoreId: string,
  input: SearchVectorStoreInput,
): Promise<SearchResultsPage> {
  const store = await storeOf(deps, principal, vectorStoreId);
  if (isExpired(store)) {
    throw new ApiError(400, `Vector store ${vectorStoreId} has expired and can no longer be searched.`, {
      code: 'vector_store_expired',
    });
  }
  const queries = typeof input.query === 'string' ? [input.query] : input.query;
  const query = queries.join('\n');
  const [queryEmbedding] = await deps.embedder.embed([query]);
  if (!queryEmbedding) throw new Error('the embedder answered no vector for the query');
  const hits = await searchChunks(deps.db, {
    projectId: principal.projectId,
    vectorStoreIds: [store.id],
    query,
    queryEmbedding,
    maxResults: input.max_num_results,
    scoreThreshold: input.ranking_options?.score_threshold ?? 0,
    filters: input.filters,
  });
  await touchVectorStore(deps.db, principal.projectId, store.id);
  return {
    object: 'vector_store.search_results.page',
    search_query: queries,
    data: hits.map((hit) => ({
      file_id: hit.fileId,
      filename: hit.filename,
      score: hit.score,
      attributes: hit.attributes,
      content: [{ type: 'text', text: hit.text }],
    })),
    has_more: false,
    next_page: null,
  };
}
