// Documents made in tests, for the ingestion of files: a PDF with text lines (the smallest valid one, written here
// with its cross-reference table) and a Word document (made with the docx library).
import { Document, Packer, Paragraph } from 'docx';

function escapePdfText(line: string): string {
  return line.replace(/[\\()]/g, (char) => `\\${char}`);
}

/** A PDF of one page per item of `pages`, each showing its lines in Helvetica; text extraction reads them back. */
export function pdfWithPages(pages: string[][]): Buffer {
  const fontId = 3 + pages.length * 2;
  const pageIds = pages.map((_, index) => 3 + index * 2);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`,
  ];
  for (const [index, lines] of pages.entries()) {
    const contentsId = 3 + index * 2 + 1;
    const text = lines.map((line) => `(${escapePdfText(line)}) Tj 0 -16 Td`).join('\n');
    const stream = `BT /F1 12 Tf 72 740 Td\n${text}\nET`;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${contentsId} 0 R /Resources << /Font << /F1 ${fontId} 0 R >> >> >>`,
      `<< /Length ${Buffer.byteLength(stream)} >>\nstream\n${stream}\nendstream`,
    );
  }
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(body);
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** A one-page PDF that shows `lines`. */
export function pdfWithText(lines: string[]): Buffer {
  return pdfWithPages([lines]);
}

/** A .docx with one paragraph per item. */
export function docxWithParagraphs(paragraphs: string[]): Promise<Buffer> {
  const document = new Document({ sections: [{ children: paragraphs.map((text) => new Paragraph(text)) }] });
  return Packer.toBuffer(document);
}
