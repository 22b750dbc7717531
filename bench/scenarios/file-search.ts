// Scenario 6, file_search retrieval: ingestion (offline embedding + saveChunks) and hybrid search at 10k and 100k
// chunks in one vector store, on Threadwork's own database, without the services.
import {
  closeDb,
  createDb,
  type Db,
  type Embedder,
  offlineEmbedder,
  saveChunks,
  searchChunks,
} from '@threadwork/shared';
import { type LatencySummary, round, roundSummary, summarise } from '../stats.js';

export interface SearchPoint {
  chunks: number;
  search: LatencySummary;
  /** Share of queries (words drawn from one chunk) whose chunk is among the first 10 results. */
  recallAt10: number;
}

export interface FileSearchResult {
  embedding: string;
  /** Words per synthetic chunk (a 800-token chunk is about 600). */
  wordsPerChunk: number;
  ingestion: { chunks: number; seconds: number; chunksPerSecond: number; megabytesPerSecond: number };
  points: SearchPoint[];
}

const PROJECT = 'proj_bench';
const STORE = 'vs_bench';
const CHUNKS_PER_FILE = 100;
const WORDS_PER_CHUNK = 120;
const VOCABULARY = 20_000;
const QUERY_WORDS = 6;

/** xorshift32: the same corpus on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const syllables = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'te',
  'vo',
  'zi',
  'po',
  'da',
  'ge',
  'hu',
  'ji',
  'bo',
  'fe',
];

/** Word number n of the vocabulary: a pronounceable, distinct made-up word. */
function word(n: number): string {
  let text = '';
  for (let rest = n + syllables.length; rest > 0; rest = Math.floor(rest / syllables.length)) {
    text += syllables[rest % syllables.length];
  }
  return text;
}

/** A chunk's text: words drawn with a Zipf-like skew, as natural text has a few very common words. */
function chunkText(next: () => number): string {
  const words: string[] = [];
  for (let i = 0; i < WORDS_PER_CHUNK; i += 1) words.push(word(Math.floor(VOCABULARY * next() ** 2)));
  return words.join(' ');
}

/** Adds chunks until the store holds `total`, file by file as ingestion would; answers the seconds it took. */
async function fillTo(db: Db, embedder: Embedder, texts: string[], total: number): Promise<number> {
  const next = random(0x5eed + texts.length);
  const started = performance.now();
  while (texts.length < total) {
    const fileIndex = texts.length / CHUNKS_PER_FILE;
    const chunks = Array.from({ length: CHUNKS_PER_FILE }, () => chunkText(next));
    const embeddings = await embedder.embed(chunks);
    await saveChunks(db, {
      projectId: PROJECT,
      vectorStoreId: STORE,
      fileId: `file_bench_${fileIndex}`,
      filename: `bench-${fileIndex}.txt`,
      attributes: { part: fileIndex % 10 },
      chunks: chunks.map((text, index) => ({
        index,
        text,
        tokens: Math.ceil(text.length / 4),
        embedding: embeddings[index] ?? [],
      })),
    });
    texts.push(...chunks);
  }
  return (performance.now() - started) / 1000;
}

async function measureSearch(
  db: Db,
  embedder: Embedder,
  texts: string[],
  queries: number,
): Promise<SearchPoint> {
  await db.$client.query('vacuum analyze vector_store_chunks');
  const next = random(0xa5a5 + texts.length);
  const latencies: number[] = [];
  let found = 0;
  for (let i = 0; i < queries; i += 1) {
    const source = Math.floor(next() * texts.length);
    const words = texts[source]?.split(' ') ?? [];
    const query = Array.from({ length: QUERY_WORDS }, () => words[Math.floor(next() * words.length)]).join(
      ' ',
    );
    const started = performance.now();
    const [queryEmbedding = []] = await embedder.embed([query]);
    const matches = await searchChunks(db, {
      projectId: PROJECT,
      vectorStoreIds: [STORE],
      query,
      queryEmbedding,
      maxResults: 10,
      scoreThreshold: 0,
    });
    latencies.push(performance.now() - started);
    const sourceFile = `file_bench_${Math.floor(source / CHUNKS_PER_FILE)}`;
    if (matches.some((match) => match.fileId === sourceFile && match.text === texts[source])) found += 1;
  }
  return {
    chunks: texts.length,
    search: roundSummary(summarise(latencies)),
    recallAt10: round(found / queries),
  };
}

export async function measureFileSearch(
  databaseUrl: string,
  options: { sizes: number[]; queries: number },
): Promise<FileSearchResult> {
  const db = createDb({ url: databaseUrl, poolSize: 2, applicationName: 'threadwork-bench-file-search' });
  const embedder = offlineEmbedder();
  const texts: string[] = [];
  const points: SearchPoint[] = [];
  let seconds = 0;
  try {
    for (const size of options.sizes) {
      seconds += await fillTo(db, embedder, texts, size);
      points.push(await measureSearch(db, embedder, texts, options.queries));
    }
  } finally {
    await db.$client
      .query('delete from vector_store_chunks where project_id = $1', [PROJECT])
      .catch(() => {});
    await closeDb(db);
  }
  const megabytes = texts.reduce((sum, text) => sum + text.length, 0) / 1e6;
  return {
    embedding: embedder.model,
    wordsPerChunk: WORDS_PER_CHUNK,
    ingestion: {
      chunks: texts.length,
      seconds: round(seconds, 1),
      chunksPerSecond: round(texts.length / seconds, 0),
      megabytesPerSecond: round(megabytes / seconds),
    },
    points,
  };
}
