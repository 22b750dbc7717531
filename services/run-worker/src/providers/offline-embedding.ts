// The offline embedding: deterministic vectors from the words of a text (feature hashing), no network, no model.
import { createHash } from 'node:crypto';
import type { Embeddings } from './types.js';

/** Dimensions of an offline embedding. */
export const OFFLINE_EMBEDDING_DIMENSIONS = 256;

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Each word adds ±1 at a position picked by its hash, so texts that share words point the same way (their cosine
 * similarity is higher) and the same text always gives the same vector. Unit length; all zeros for a text with no
 * words.
 */
export function offlineEmbedding(text: string): number[] {
  const vector = new Array<number>(OFFLINE_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of wordsOf(text)) {
    const digest = createHash('sha256').update(word).digest();
    const position = digest.readUInt16BE(0) % OFFLINE_EMBEDDING_DIMENSIONS;
    vector[position] = (vector[position] ?? 0) + ((digest[2] ?? 0) & 1 ? 1 : -1);
  }
  const length = Math.hypot(...vector);
  return length === 0 ? vector : vector.map((value) => value / length);
}

export function embedOffline(texts: string[]): Embeddings {
  return {
    vectors: texts.map(offlineEmbedding),
    promptTokens: texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0),
  };
}
