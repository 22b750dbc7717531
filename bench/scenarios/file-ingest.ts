// Scenario 8, file ingestion: a file's whole way through the ingest worker's steps (extract the text, cut token
// chunks, embed them offline, store them) for a multi-page PDF, a docx and a markdown file, without the services.
import { closeDb, createDb } from '@threadwork/shared';
import { chunkText } from '@threadwork/shared/files/chunk-text';
import { extractText } from '@threadwork/shared/files/extract-text';
import { AUTO_CHUNKING } from '@threadwork/shared/files/vector-store-wire';
import { saveChunks } from '@threadwork/shared/retrieval/chunk-store';
import { offlineEmbedder } from '@threadwork/shared/retrieval/embedder';
import { docxWithParagraphs, pdfWithPages } from '@threadwork/testing/documents';
import { round } from '../stats.js';

export interface IngestPoint {
  format: 'pdf' | 'docx' | 'md';
  files: number;
  /** Pages of each PDF; null for the other formats. */
  pagesPerFile: number | null;
  megabytesPerFile: number;
  chunks: number;
  seconds: number;
  filesPerSecond: number;
  pagesPerSecond: number | null;
  megabytesPerSecond: number;
}

export interface FileIngestResult {
  embedding: string;
  points: IngestPoint[];
}

const PROJECT = 'proj_bench_ingest';
const STORE = 'vs_bench_ingest';
const PAGES = 20;
const LINES_PER_PAGE = 40;

function sentence(page: number, line: number): string {
  return `Page ${page} line ${line}: the kettle warranty covers parts and labour for two years after purchase.`;
}

async function documents(): Promise<Array<{ format: IngestPoint['format']; name: string; bytes: Buffer }>> {
  const pages = Array.from({ length: PAGES }, (_, page) =>
    Array.from({ length: LINES_PER_PAGE }, (_, line) => sentence(page, line)),
  );
  const flat = pages.flat();
  return [
    { format: 'pdf', name: 'manual.pdf', bytes: pdfWithPages(pages) },
    { format: 'docx', name: 'manual.docx', bytes: await docxWithParagraphs(flat) },
    { format: 'md', name: 'manual.md', bytes: Buffer.from(`# Manual\n\n${flat.join('\n\n')}\n`) },
  ];
}

export async function measureFileIngest(
  databaseUrl: string,
  options: { files: number },
): Promise<FileIngestResult> {
  const db = createDb({ url: databaseUrl, poolSize: 2, applicationName: 'threadwork-bench-file-ingest' });
  const embedder = offlineEmbedder();
  const points: IngestPoint[] = [];
  try {
    for (const document of await documents()) {
      let chunks = 0;
      const started = performance.now();
      for (let file = 0; file < options.files; file += 1) {
        const pieces = chunkText(await extractText(document.name, document.bytes), AUTO_CHUNKING);
        const vectors = await embedder.embed(pieces.map((piece) => piece.text));
        await saveChunks(db, {
          projectId: PROJECT,
          vectorStoreId: STORE,
          fileId: `file-bench-${document.format}-${file}`,
          filename: document.name,
          attributes: null,
          chunks: pieces.map((piece, index) => ({ ...piece, embedding: vectors[index] ?? [] })),
        });
        chunks += pieces.length;
      }
      const seconds = (performance.now() - started) / 1000;
      const megabytes = document.bytes.length / 1e6;
      const isPdf = document.format === 'pdf';
      points.push({
        format: document.format,
        files: options.files,
        pagesPerFile: isPdf ? PAGES : null,
        megabytesPerFile: round(megabytes, 3),
        chunks,
        seconds: round(seconds, 2),
        filesPerSecond: round(options.files / seconds, 1),
        pagesPerSecond: isPdf ? round((PAGES * options.files) / seconds, 0) : null,
        megabytesPerSecond: round((megabytes * options.files) / seconds),
      });
    }
  } finally {
    await db.$client
      .query('delete from vector_store_chunks where project_id = $1', [PROJECT])
      .catch(() => {});
    await closeDb(db);
  }
  return { embedding: embedder.model, points };
}
