// The text of an uploaded file, by its extension: plain text formats as UTF-8, HTML through html-to-text, PDF
// through unpdf (pdf.js) and docx through mammoth. A file that cannot be read fails with an ExtractionError.
import { extname } from 'node:path';
import { convert as htmlToText } from 'html-to-text';
import mammoth from 'mammoth';
import { extractText as extractPdfText, getDocumentProxy } from 'unpdf';
import type { IngestError } from './vector-store-wire.js';

export class ExtractionError extends Error {
  override name = 'ExtractionError';
  constructor(
    readonly code: IngestError['code'] & ('unsupported_file' | 'invalid_file'),
    message: string,
  ) {
    super(message);
  }
}

/** Formats read as UTF-8 text as they are. */
const PLAIN_TEXT = new Set([
  '.txt',
  '.md',
  '.markdown',
  '.json',
  '.csv',
  '.tsv',
  '.xml',
  '.yaml',
  '.yml',
  '.tex',
  '.log',
  '.py',
  '.js',
  '.ts',
  '.java',
  '.c',
  '.cpp',
  '.h',
  '.cs',
  '.go',
  '.rb',
  '.php',
  '.sh',
  '.css',
  '.sql',
  '.rs',
]);

export const SUPPORTED_EXTENSIONS = [...PLAIN_TEXT, '.html', '.htm', '.pdf', '.docx'] as const;

function decodeUtf8(bytes: Buffer, filename: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new ExtractionError('invalid_file', `${filename} is not valid UTF-8 text.`);
  }
}

async function pdfText(bytes: Buffer, filename: string): Promise<string> {
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    const { text } = await extractPdfText(pdf, { mergePages: true });
    return text;
  } catch (error) {
    throw new ExtractionError(
      'invalid_file',
      `${filename} could not be read as a PDF: ${(error as Error).message}`,
    );
  }
}

async function docxText(bytes: Buffer, filename: string): Promise<string> {
  try {
    return (await mammoth.extractRawText({ buffer: bytes })).value;
  } catch (error) {
    throw new ExtractionError(
      'invalid_file',
      `${filename} could not be read as a docx: ${(error as Error).message}`,
    );
  }
}

async function rawText(filename: string, bytes: Buffer): Promise<string> {
  const extension = extname(filename).toLowerCase();
  if (PLAIN_TEXT.has(extension)) return decodeUtf8(bytes, filename);
  if (extension === '.html' || extension === '.htm')
    return htmlToText(decodeUtf8(bytes, filename), { wordwrap: false });
  if (extension === '.pdf') return pdfText(bytes, filename);
  if (extension === '.docx') return docxText(bytes, filename);
  throw new ExtractionError(
    'unsupported_file',
    `${filename}: files of type '${extension || 'none'}' are not supported; supported: ${SUPPORTED_EXTENSIONS.join(', ')}.`,
  );
}

/** The file's text, without NUL characters (Postgres text cannot hold them); refuses a file without any text. */
export async function extractText(filename: string, bytes: Buffer): Promise<string> {
  const text = (await rawText(filename, bytes)).replaceAll('\0', '');
  if (text.trim().length === 0) throw new ExtractionError('invalid_file', `${filename} contains no text.`);
  return text;
}
