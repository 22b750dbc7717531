import { describe, expect, it } from 'vitest';
import { filePathAnnotations } from './run-repository.js';

describe('filePathAnnotations', () => {
  it('marks each mention of a file the code wrote, in the order of the text', () => {
    const text = 'See sandbox:/mnt/data/b.png and sandbox:/mnt/data/a.csv, again sandbox:/mnt/data/b.png.';
    const files = [
      { name: 'a.csv', file_id: 'file-a' },
      { name: 'b.png', file_id: 'file-b' },
    ];
    expect(filePathAnnotations(text, files)).toEqual([
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/b.png',
        start_index: 4,
        end_index: 27,
        file_path: { file_id: 'file-b' },
      },
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/a.csv',
        start_index: 32,
        end_index: 55,
        file_path: { file_id: 'file-a' },
      },
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/b.png',
        start_index: 63,
        end_index: 86,
        file_path: { file_id: 'file-b' },
      },
    ]);
  });

  it('marks nothing in a text that names no written file', () => {
    expect(filePathAnnotations('no files here', [{ name: 'a.csv', file_id: 'file-a' }])).toEqual([]);
  });
});
