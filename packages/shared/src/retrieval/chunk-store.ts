// Chunks of ingested files and their search (contract stub; the file-search branch replaces this file): kept in
// this process's memory per database, searched by cosine similarity.
import type { Db } from '../db/client.js';
import type { AttributeFilter, FileAttributes } from '../files/vector-store-wire.js';

export interface NewChunk {
  index: number;
  text: string;
  tokens: number;
  embedding: number[];
}

interface StoredChunk extends NewChunk {
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  attributes: FileAttributes | null;
}

export interface ChunkHit {
  fileId: string;
  filename: string;
  score: number;
  text: string;
  attributes: FileAttributes | null;
}

const stores = new Map<string, StoredChunk[]>();

function databaseOf(db: Db): string {
  return db.$client.options.connectionString ?? '';
}

function chunksOf(db: Db): StoredChunk[] {
  let chunks = stores.get(databaseOf(db));
  if (!chunks) {
    chunks = [];
    stores.set(databaseOf(db), chunks);
  }
  return chunks;
}

export async function saveChunks(
  db: Db,
  input: {
    projectId: string;
    vectorStoreId: string;
    fileId: string;
    filename: string;
    attributes: FileAttributes | null;
    chunks: NewChunk[];
  },
): Promise<void> {
  const { chunks, ...owner } = input;
  await deleteChunks(db, { vectorStoreId: input.vectorStoreId, fileId: input.fileId });
  chunksOf(db).push(...chunks.map((chunk) => ({ ...chunk, ...owner })));
}

export async function deleteChunks(db: Db, input: { vectorStoreId?: string; fileId: string }): Promise<void> {
  const kept = chunksOf(db).filter(
    (chunk) =>
      chunk.fileId !== input.fileId ||
      (input.vectorStoreId !== undefined && chunk.vectorStoreId !== input.vectorStoreId),
  );
  stores.set(databaseOf(db), kept);
}

export async function updateChunkAttributes(
  db: Db,
  input: { vectorStoreId: string; fileId: string; attributes: FileAttributes | null },
): Promise<void> {
  for (const chunk of chunksOf(db)) {
    if (chunk.vectorStoreId === input.vectorStoreId && chunk.fileId === input.fileId)
      chunk.attributes = input.attributes;
  }
}

function matches(attributes: FileAttributes | null, filter: AttributeFilter): boolean {
  if ('filters' in filter) {
    const test = (inner: AttributeFilter) => matches(attributes, inner);
    return filter.type === 'and' ? filter.filters.every(test) : filter.filters.some(test);
  }
  const value = attributes?.[filter.key];
  if (value === undefined) return false;
  const wanted = filter.value;
  switch (filter.type) {
    case 'eq':
      return value === wanted;
    case 'ne':
      return value !== wanted;
    case 'gt':
      return value > (wanted as typeof value);
    case 'gte':
      return value >= (wanted as typeof value);
    case 'lt':
      return value < (wanted as typeof value);
    case 'lte':
      return value <= (wanted as typeof value);
    case 'in':
      return Array.isArray(wanted) && wanted.includes(value);
    case 'nin':
      return Array.isArray(wanted) && !wanted.includes(value);
  }
}

function cosine(left: number[], right: number[]): number {
  let dot = 0;
  for (let index = 0; index < left.length; index += 1) dot += (left[index] ?? 0) * (right[index] ?? 0);
  return dot;
}

export async function searchChunks(
  db: Db,
  input: {
    projectId: string;
    vectorStoreIds: string[];
    query: string;
    queryEmbedding: number[];
    maxResults: number;
    scoreThreshold: number;
    filters?: AttributeFilter;
  },
): Promise<ChunkHit[]> {
  return chunksOf(db)
    .filter(
      (chunk) =>
        chunk.projectId === input.projectId &&
        input.vectorStoreIds.includes(chunk.vectorStoreId) &&
        (!input.filters || matches(chunk.attributes, input.filters)),
    )
    .map((chunk) => ({
      fileId: chunk.fileId,
      filename: chunk.filename,
      score: cosine(chunk.embedding, input.queryEmbedding),
      text: chunk.text,
      attributes: chunk.attributes,
    }))
    .filter((hit) => hit.score >= input.scoreThreshold)
    .sort((left, right) => right.score - left.score)
    .slice(0, input.maxResults);
}
