// The offline embedding: deterministic vectors from a text's words, word pairs and character trigrams (feature
// hashing), no network, no model. Labelled `offline-embedding` wherever it shows.

/** The model name the offline embedding goes by. */
export const OFFLINE_EMBEDDING_MODEL = 'offline-embedding';

/** Dimensions of an offline embedding. */
export const OFFLINE_EMBEDDING_DIMENSIONS = 256;

/** Words that say little about a passage's subject; a question is mostly made of them. */
const stopWords = new Set(
  (
    'a an and are as at be been being but by can could did do does for from had has have how i if in into is it ' +
    'its me my of on or our should so than that the their them then there these they this to was we were what ' +
    'when where which who whom why will with would you your about please tell find search files documents'
  ).split(' '),
);

/** Weights of each kind of feature: whole words carry the subject, trigrams catch inflections and typos. */
const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.25;

/** `es` is an ending only after these (boxes, wishes); elsewhere the `e` is the word's own (takes, files). */
const SIBILANT_END = /(?:s|x|z|ch|sh)$/;

/** Strips the commonest English inflections, so that `resetting` and `resets` meet `reset`. */
function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ['ing', 'edly', 'ed', 'es', 'ly', 's']) {
    if (!word.endsWith(suffix) || word.length - suffix.length < 3) continue;
    const base = word.slice(0, -suffix.length);
    if (suffix === 'es' && !SIBILANT_END.test(base)) continue;
    // resetting -> resett -> reset
    return base.length > 3 && base.at(-1) === base.at(-2) && !base.endsWith('ss') ? base.slice(0, -1) : base;
  }
  return word;
}

function termsOf(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((word) => !stopWords.has(word)).map(stem);
}

/** FNV-1a, 32 bits: fast, stable across processes and versions, good enough to spread features. */
function hash(feature: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < feature.length; i += 1) {
    value ^= feature.charCodeAt(i);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

function addFeature(counts: Map<string, number>, feature: string, weight: number): void {
  counts.set(feature, (counts.get(feature) ?? 0) + weight);
}

function featuresOf(text: string): Map<string, number> {
  const terms = termsOf(text);
  const counts = new Map<string, number>();
  terms.forEach((term, index) => {
    addFeature(counts, `w:${term}`, WORD_WEIGHT);
    const next = terms[index + 1];
    if (next !== undefined) addFeature(counts, `p:${term} ${next}`, PAIR_WEIGHT);
    const padded = `#${term}#`;
    for (let i = 0; i + 3 <= padded.length; i += 1) {
      addFeature(counts, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
    }
  });
  return counts;
}

/**
 * Each feature adds its weight (damped logarithmically with repetition, so a long passage is not all one word) at a
 * position and with a sign picked by its hash; texts that share words and word pieces point the same way. Unit
 * length; all zeros for a text without words.
 */
export function offlineEmbedding(text: string): number[] {
  const vector = new Array<number>(OFFLINE_EMBEDDING_DIMENSIONS).fill(0);
  for (const [feature, weight] of featuresOf(text)) {
    const bits = hash(feature);
    const position = bits % OFFLINE_EMBEDDING_DIMENSIONS;
    const sign = bits & 0x80000000 ? -1 : 1;
    vector[position] = (vector[position] ?? 0) + sign * Math.log1p(weight);
  }
  const length = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return length === 0 ? vector : vector.map((value) => value / length);
}

/** Tokens an input counts for in usage: about four characters each, as OpenAI's tokenizers average on English. */
export function estimatedTokens(texts: string[]): number {
  return texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
}
