// A file's text cut into chunks by tokens (cl100k_base, the tokenizer of OpenAI's embedding models): windows of
// max_chunk_size_tokens, each starting chunk_overlap_tokens before the previous one ends.
import { decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { StaticChunking } from './vector-store-wire.js';

export interface TextChunk {
  index: number;
  text: string;
  tokens: number;
}

export function chunkText(text: string, strategy: StaticChunking): TextChunk[] {
  const tokens = encode(text);
  const step = strategy.max_chunk_size_tokens - strategy.chunk_overlap_tokens;
  const chunks: TextChunk[] = [];
  for (let start = 0; start < tokens.length; start += step) {
    const window = tokens.slice(start, start + strategy.max_chunk_size_tokens);
    chunks.push({ index: chunks.length, text: decode(window), tokens: window.length });
    if (start + strategy.max_chunk_size_tokens >= tokens.length) break;
  }
  return chunks;
}
