// Text to vectors (contract stub; the file-search branch replaces this file): an offline hashed bag of words.
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';

export interface Embedder {
  model: string;
  isOffline: boolean;
  dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

const DIMENSIONS = 256;

function embedOne(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const slot = createHash('sha1').update(word).digest().readUInt32BE(0) % DIMENSIONS;
    vector[slot] = (vector[slot] ?? 0) + 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

export function embedderFromConfig(_config: Config): Embedder {
  return {
    model: 'offline',
    isOffline: true,
    dimensions: DIMENSIONS,
    embed: async (texts) => texts.map(embedOne),
  };
}
