import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { chunkText } from './chunk-text.js';
import { AUTO_CHUNKING } from './vector-store-wire.js';

const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index}`).join(' ');

describe('chunkText', () => {
  it('keeps a short text whole', () => {
    expect(chunkText('A short note.', AUTO_CHUNKING)).toEqual([
      { index: 0, text: 'A short note.', tokens: 4 },
    ]);
  });

  it('cuts windows of max_chunk_size_tokens that overlap by chunk_overlap_tokens', () => {
    const text = words(600);
    const total = encode(text).length;
    const chunks = chunkText(text, { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 });
    expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index));
    for (const chunk of chunks.slice(0, -1)) expect(chunk.tokens).toBe(200);
    expect(chunks.length).toBe(Math.ceil((total - 200) / 150) + 1);
    const first = encode(chunks[0]?.text ?? '');
    const second = encode(chunks[1]?.text ?? '');
    expect(second.slice(0, 50)).toEqual(first.slice(150));
    expect(chunks.at(-1)?.text.endsWith('word599')).toBe(true);
  });

  it('uses 800-token chunks overlapping by 400 for auto', () => {
    const chunks = chunkText(words(2000), AUTO_CHUNKING);
    expect(chunks[0]?.tokens).toBe(800);
    expect(encode(chunks[1]?.text ?? '').slice(0, 400)).toEqual(encode(chunks[0]?.text ?? '').slice(400));
  });
});
