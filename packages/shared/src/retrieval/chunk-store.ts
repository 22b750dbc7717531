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
import { id } from '../db/id-column.js';
import { attributeCondition, type ChunkFilter } from './attribute-filters.js';
import { SIGNATURE_BITS, signatureOf, unitLength } from './vector-signature.js';

/** A file's attributes as OpenAI's API gives them: up to 16 keys, each a string, number or boolean. */
export type ChunkAttributes = Record<string, string | number | boolean>;

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
const bits = customType<{ data: string }>({ dataType: () => `bit(${SIGNATURE_BITS})` });

/**
 * One chunk of one file in one vector store. The vector is a `real[]` (pgvector is not assumed); `signature` is its
 * sign-random-projection hash, which Postgres compares in bulk (Hamming distance) to find the candidates whose
 * exact similarity is then computed. The migration adds what drizzle cannot declare: a covering index of the
 * signatures (`vector_store_chunks_signature_idx`, read by an index-only scan), the text and vector stored out of
 * line (`toast_tuple_target = 128`), the tsvector in line (`storage main`, ranked without a TOAST fetch) and the
 * signature never compressed (`storage plain`).
 */
export const vectorStoreChunks = pgTable(
  'vector_store_chunks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    projectId: id('project_id').notNull(),
    vectorStoreId: id('vector_store_id').notNull(),
    fileId: id('file_id').notNull(),
    filename: text('filename').notNull(),
    /** As the file has them in the store: null when it has none. */
    attributes: jsonb('attributes').$type<ChunkAttributes>(),
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
  /** The file's attributes in the store, null when it has none. */
  attributes: ChunkAttributes | null;
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
  input: { vectorStoreId: string; fileId: string; attributes: ChunkAttributes | null },
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
  filters?: ChunkFilter;
}

export interface ChunkMatch {
  fileId: string;
  filename: string;
  score: number;
  text: string;
  attributes: ChunkAttributes | null;
}

/** Reciprocal rank fusion's constant: a chunk ranked r in a list adds 1 / (RRF_K + r). */
const RRF_K = 60;
/** The best fused score (first in both lists), by which scores are divided to fall in 0..1. */
const BEST_FUSED = 2 / (RRF_K + 1);
/** Chunks each list contributes to the fusion. */
const LIST_DEPTH = 50;
/** Chunks nearest by signature whose exact similarity is computed; the rest are too far to be among the best. */
const VECTOR_CANDIDATES = 200;
/**
 * A word in more than this share of the chunks (Postgres's own statistics of the tsvector column) says little about
 * a passage and makes the full-text list costly: it is left out of the query when the query has rarer words.
 */
const COMMON_WORD_SHARE = 0.02;

/** A vector as one Postgres array literal (a JS array in a drizzle template would become a list of parameters). */
function arrayLiteral(vector: number[]): string {
  return `{${vector.join(',')}}`;
}

/**
 * Hybrid search, as OpenAI's file_search: the chunks nearest the query's embedding and the chunks best ranked by
 * Postgres full-text search (English stemming, any of the query's words but the very common ones), fused by
 * reciprocal rank fusion; the score is the fused one divided by its best possible value, so 1 is a chunk first in
 * both lists. Then the score threshold and the result limit.
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
  const result = await db.execute<{
    file_id: string;
    filename: string;
    text: string;
    attributes: ChunkAttributes | null;
    score: number;
  }>(sql`
    with nearest as (
      select ${c.id} as id from ${c}
      where ${inScope}
      order by bit_count(${c.signature} # ${signature}::bit(${sql.raw(String(SIGNATURE_BITS))}))
      limit ${VECTOR_CANDIDATES}
    ), scored as materialized (
      select ${c.id} as id,
        (select sum(a * b) from unnest(${c.embedding}, ${arrayLiteral(embedding)}::real[]) as pair(a, b)) as similarity
      from nearest join ${c} on ${c.id} = nearest.id
    ), by_vector as (
      select id, row_number() over (order by similarity desc) as rank from scored
      order by similarity desc
      limit ${LIST_DEPTH}
    ), common_words as (
      -- most_common_elem_freqs ends with three statistics of its own, which unnest pairs with null lexemes.
      select word.lexeme from pg_stats stats,
        unnest(stats.most_common_elems::text::text[], stats.most_common_elem_freqs) as word(lexeme, share)
      where stats.schemaname = current_schema() and stats.tablename = 'vector_store_chunks'
        and stats.attname = 'search_vector' and word.lexeme is not null and word.share > ${COMMON_WORD_SHARE}
    ), query_words as (
      select unnest(tsvector_to_array(to_tsvector('english', ${input.query}))) as lexeme
    ), text_query as (
      select to_tsquery('simple', coalesce(
        string_agg(quote_literal(lexeme), ' | ')
          filter (where not exists (select 1 from common_words where common_words.lexeme = query_words.lexeme)),
        string_agg(quote_literal(lexeme), ' | '),
        ''
      )) as query
      from query_words
    ), by_text as (
      select ${c.id} as id, row_number() over (order by ts_rank_cd(${c.searchVector}, text_query.query) desc) as rank
      from ${c}, text_query
      where ${inScope} and ${c.searchVector} @@ text_query.query
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
