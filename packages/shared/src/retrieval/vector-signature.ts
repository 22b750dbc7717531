// Sign-random-projection signatures of vectors: bits whose Hamming distance tracks the angle between two vectors.

/** Bits of a signature: enough that vectors at cosine 0.3 and at 0 are apart by several standard deviations. */
export const SIGNATURE_BITS = 512;

/** Per vector size, SIGNATURE_BITS hyperplanes of ±1 entries, drawn from a fixed seed: the same in every process. */
const planesBySize = new Map<number, Int8Array>();

function planesFor(size: number): Int8Array {
  const cached = planesBySize.get(size);
  if (cached) return cached;
  const planes = new Int8Array(SIGNATURE_BITS * size);
  // xorshift32 from a fixed seed: stable across processes, versions and platforms.
  let state = 0x9e3779b9;
  for (let i = 0; i < planes.length; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    planes[i] = state & 1 ? 1 : -1;
  }
  planesBySize.set(size, planes);
  return planes;
}

/** The vector scaled to length 1 (a zero vector stays zero), so that a dot product is the cosine similarity. */
export function unitLength(vector: number[]): number[] {
  let squares = 0;
  for (const value of vector) squares += value * value;
  if (squares === 0) return vector;
  const length = Math.sqrt(squares);
  return vector.map((value) => value / length);
}

/** The signature as a Postgres bit-string literal: bit i is set when the vector lies on the positive side of plane i. */
export function signatureOf(vector: number[]): string {
  const size = vector.length;
  const planes = planesFor(size);
  let bits = '';
  for (let bit = 0; bit < SIGNATURE_BITS; bit += 1) {
    let dot = 0;
    const offset = bit * size;
    for (let i = 0; i < size; i += 1) dot += (vector[i] ?? 0) * (planes[offset + i] ?? 0);
    bits += dot > 0 ? '1' : '0';
  }
  return bits;
}
