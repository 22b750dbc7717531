// The chunks of the files in vector stores: their table, saving and deleting them, and hybrid search over them.
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  bigserial,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { type AttributeFilter, attributeCondition } from './attribute-filters.js';
import { SIGNATURE_BITS, signatureOf, unitLength } from './vector-signature.js';

/** A file's attributes as OpenAI's API gives them: up to 16 keys, each a string, number or boolean. */
export type ChunkAttributes = Record<string, string | number | boolean>;

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
const bits = customType<{ data: string }>({ dataType: () => `bit(${SIGNATURE_BITS})` });

/**
 * One chunk of one file in one vector store. The vector is a `real[]` (pgvector is not assumed); `signature` is its
 * sign-random-projection hash, which Postgres compares in bulk (Hamming distance) to find the candidates whose
 * exact similarity is then computed. A chunk is written once, with its file's attributes of the time.
 */
export const vectorStoreChunks = pgTable(
  'vector_store_chunks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    projectId: text('project_id').notNull(),
    vectorStoreId: text('vector_store_id').notNull(),
    fileId: text('file_id').notNull(),
    filename: text('filename').notNull(),
    attributes: jsonb('attributes').$type<ChunkAttributes>().notNull().default({}),
    chunkIndex: integer('chunk_index').notNull(),
    text: text('text').notNull(),
    tokens: integer('tokens').notNull(),
    embedding: real('embedding').array().notNull(),
    signature: bits('signature').notNull(),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english'::regconfig, text)`),
  },
  (table) => [
    uniqueIndex('vector_store_chunks_store_file_chunk_idx').on(
      table.vectorStoreId,
      table.fileId,
      table.chunkIndex,
    ),
    index('vector_store_chunks_file_idx').on(table.fileId),
    index('vector_store_chunks_search_vector_idx').using('gin', table.searchVector),
  ],
);

export interface ChunkToSave {
  index: number;
  text: string;
  tokens: number;
  embedding: number[];
}

export interface SaveChunksInput {
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  attributes: ChunkAttributes;
  chunks: ChunkToSave[];
}

/** Rows per insert statement: 11 parameters each, well under Postgres's 65,535. */
const INSERT_BATCH = 500;

/** Replaces the file's chunks in the store with `chunks` (one transaction, so an ingestion retried is harmless). */
export async function saveChunks(db: Db, input: SaveChunksInput): Promise<void> {
  const rows = input.chunks.map((chunk) => {
    const embedding = unitLength(chunk.embedding);
    return {
      projectId: input.projectId,
      vectorStoreId: input.vectorStoreId,
      fileId: input.fileId,
      filename: input.filename,
      attributes: input.attributes,
      chunkIndex: chunk.index,
      text: chunk.text,
      tokens: chunk.tokens,
      embedding,
      signature: signatureOf(embedding),
    };
  });
  await db.transaction(async (tx) => {
    await tx
      .delete(vectorStoreChunks)
      .where(
        and(
          eq(vectorStoreChunks.vectorStoreId, input.vectorStoreId),
          eq(vectorStoreChunks.fileId, input.fileId),
        ),
      );
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await tx.insert(vectorStoreChunks).values(rows.slice(start, start + INSERT_BATCH));
    }
  });
}

/** Deletes a file's chunks from one store, or from every store when no store is named (the file was deleted). */
export async function deleteChunks(db: Db, input: { vectorStoreId?: string; fileId: string }): Promise<void> {
  const inFile = eq(vectorStoreChunks.fileId, input.fileId);
  await db
    .delete(vectorStoreChunks)
    .where(
      input.vectorStoreId ? and(inFile, eq(vectorStoreChunks.vectorStoreId, input.vectorStoreId)) : inFile,
    );
}

export async function updateChunkAttributes(
  db: Db,
  input: { vectorStoreId: string; fileId: string; attributes: ChunkAttributes },
): Promise<void> {
  await db
    .update(vectorStoreChunks)
    .set({ attributes: input.attributes })
    .where(
      and(
        eq(vectorStoreChunks.vectorStoreId, input.vectorStoreId),
        eq(vectorStoreChunks.fileId, input.fileId),
      ),
    );
}

export interface SearchChunksInput {
  projectId: string;
  vectorStoreIds: string[];
  query: string;
  queryEmbedding: number[];
  maxResults: number;
  /** Results whose fused score (0..1) is below it are left out. */
  scoreThreshold: number;
  filters?: AttributeFilter;
}

export interface ChunkMatch {
  fileId: string;
  filename: string;
  score: number;
  text: string;
  attributes: ChunkAttributes;
}

/** Reciprocal rank fusion's constant: a chunk ranked r in a list adds 1 / (RRF_K + r). */
const RRF_K = 60;
/** The best fused score (first in both lists), by which scores are divided to fall in 0..1. */
const BEST_FUSED = 2 / (RRF_K + 1);
/** Chunks each list contributes to the fusion. */
const LIST_DEPTH = 50;
/** Chunks nearest by signature whose exact similarity is computed; the rest are too far to be among the best. */
const VECTOR_CANDIDATES = 400;

/** A vector as one Postgres array literal (a JS array in a drizzle template would become a list of parameters). */
function arrayLiteral(vector: number[]): string {
  return `{${vector.join(',')}}`;
}

/** The query's words as an OR full-text query (a passage need not hold every word of a question), or null. */
function fullTextQuery(query: string): string | null {
  const words = query.match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.length === 0 ? null : words.slice(0, 64).join(' | ');
}

/**
 * Hybrid search, as OpenAI's file_search: the chunks nearest the query's embedding and the chunks best ranked by
 * Postgres full-text search (English stemming, any of the query's words), fused by reciprocal rank fusion; the
 * score is the fused one divided by its best possible value, so 1 is a chunk first in both lists. Then the score
 * threshold and the result limit.
 */
export async function searchChunks(db: Db, input: SearchChunksInput): Promise<ChunkMatch[]> {
  if (input.vectorStoreIds.length === 0 || input.maxResults <= 0) return [];
  const c = vectorStoreChunks;
  const inScope = and(
    eq(c.projectId, input.projectId),
    inArray(c.vectorStoreId, input.vectorStoreIds),
    input.filters ? attributeCondition(c.attributes, input.filters) : undefined,
  );
  const embedding = unitLength(input.queryEmbedding);
  const signature = signatureOf(embedding);
  const textQuery = fullTextQuery(input.query);
  const result = await db.execute<{
    file_id: string;
    filename: string;
    text: string;
    attributes: ChunkAttributes;
    score: number;
  }>(sql`
    with nearest as (
      select ${c.id} as id, ${c.embedding} as embedding from ${c}
      where ${inScope}
      order by bit_count(${c.signature} # ${signature}::bit(${sql.raw(String(SIGNATURE_BITS))}))
      limit ${VECTOR_CANDIDATES}
    ), by_vector as (
      select id, row_number() over (order by similarity desc) as rank from (
        select id, (select sum(a * b) from unnest(embedding, ${arrayLiteral(embedding)}::real[]) as pair(a, b)) as similarity
        from nearest
      ) scored
      where similarity > 0
      order by similarity desc
      limit ${LIST_DEPTH}
    ), by_text as (
      select ${c.id} as id,
        row_number() over (order by ts_rank_cd(${c.searchVector}, to_tsquery('english', ${textQuery})) desc) as rank
      from ${c}
      where ${textQuery}::text is not null and ${inScope}
        and ${c.searchVector} @@ to_tsquery('english', ${textQuery})
      order by rank
      limit ${LIST_DEPTH}
    ), fused as (
      select id, sum(1.0 / (${RRF_K} + rank)) / ${BEST_FUSED} as score
      from (select id, rank from by_vector union all select id, rank from by_text) ranked
      group by id
    )
    select ${c.fileId} as file_id, ${c.filename} as filename, ${c.text} as text, ${c.attributes} as attributes,
      round(fused.score, 4)::float8 as score
    from fused join ${c} on ${c.id} = fused.id
    where fused.score >= ${input.scoreThreshold}
    order by fused.score desc, ${c.id}
    limit ${input.maxResults}`);
  return result.rows.map((row) => ({
    fileId: row.file_id,
    filename: row.filename,
    score: row.score,
    text: row.text,
    attributes: row.attributes,
  }));
}
