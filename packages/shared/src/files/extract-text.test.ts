import { docxWithParagraphs, pdfWithPages, pdfWithText } from '@threadwork/testing/documents';
import { describe, expect, it } from 'vitest';
import { ExtractionError, extractText } from './extract-text.js';

async function failure(filename: string, bytes: Buffer): Promise<ExtractionError> {
  const error = await extractText(filename, bytes).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ExtractionError);
  return error as ExtractionError;
}

describe('extractText', () => {
  it('reads plain text formats as UTF-8', async () => {
    expect(await extractText('notes.md', Buffer.from('# Title\n\nCafé déjà vu'))).toBe(
      '# Title\n\nCafé déjà vu',
    );
    expect(await extractText('rows.csv', Buffer.from('a,b\n1,2'))).toBe('a,b\n1,2');
    expect(await extractText('data.json', Buffer.from('{"k":"v"}'))).toBe('{"k":"v"}');
  });

  it('reads the text of HTML without its markup and scripts', async () => {
    const html =
      '<html><head><script>var x = 1;</script></head><body><h1>Refunds</h1><p>Within 30 days.</p></body></html>';
    const text = await extractText('page.html', Buffer.from(html));
    expect(text).toContain('Within 30 days.');
    expect(text).not.toContain('<p>');
  });

  it('reads the text of a PDF and of a docx', async () => {
    const pdf = pdfWithText(['The warranty lasts two years.', 'Batteries (AA) are excluded.']);
    const fromPdf = await extractText('manual.pdf', pdf);
    expect(fromPdf).toContain('The warranty lasts two years.');
    expect(fromPdf).toContain('Batteries (AA) are excluded.');
    const docx = await docxWithParagraphs(['Shipping takes five days.', 'Returns are free.']);
    const fromDocx = await extractText('policy.DOCX', docx);
    expect(fromDocx).toContain('Shipping takes five days.');
    expect(fromDocx).toContain('Returns are free.');
  });

  it('reads every page of a PDF, in order', async () => {
    const text = await extractText(
      'book.pdf',
      pdfWithPages([['Chapter one.'], ['Chapter two.'], ['Chapter three.']]),
    );
    expect(text.indexOf('Chapter one.')).toBeLessThan(text.indexOf('Chapter two.'));
    expect(text.indexOf('Chapter two.')).toBeLessThan(text.indexOf('Chapter three.'));
  });

  it('fails a corrupt PDF or docx, bytes that are not UTF-8, an unknown type and a file without text', async () => {
    expect((await failure('broken.pdf', Buffer.from('%PDF-1.4 this is not a pdf'))).code).toBe(
      'invalid_file',
    );
    expect((await failure('broken.docx', Buffer.from('PK not a zip'))).code).toBe('invalid_file');
    expect((await failure('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]))).code).toBe('invalid_file');
    const unknown = await failure('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(unknown.code).toBe('unsupported_file');
    expect(unknown.message).toContain("'.png'");
    expect((await failure('blank.txt', Buffer.from(' \n\t '))).code).toBe('invalid_file');
  });

  it('drops NUL characters, which Postgres text cannot hold', async () => {
    expect(await extractText('nul.txt', Buffer.from('a\0b'))).toBe('ab');
  });
});
