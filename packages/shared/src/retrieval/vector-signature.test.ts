import { describe, expect, it } from 'vitest';
import { SIGNATURE_BITS, signatureOf, unitLength } from './vector-signature.js';

function hamming(a: string, b: string): number {
  let distance = 0;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) distance += 1;
  return distance;
}

/** A vector of `size` values from a fixed seed. */
function vector(size: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: size }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 30 - 1;
  });
}

describe('signatureOf', () => {
  it('is a bit string of SIGNATURE_BITS, the same in every call', () => {
    const signature = signatureOf(vector(256, 1));
    expect(signature).toMatch(new RegExp(`^[01]{${SIGNATURE_BITS}}$`));
    expect(signatureOf(vector(256, 1))).toBe(signature);
  });

  it('puts near vectors at a small Hamming distance and unrelated ones near half the bits', () => {
    const base = vector(1536, 7);
    const near = base.map((value, index) => value + (index % 5 === 0 ? 0.2 : 0));
    const unrelated = vector(1536, 99);
    expect(hamming(signatureOf(base), signatureOf(near))).toBeLessThan(SIGNATURE_BITS * 0.15);
    const far = hamming(signatureOf(base), signatureOf(unrelated));
    expect(far).toBeGreaterThan(SIGNATURE_BITS * 0.4);
    expect(far).toBeLessThan(SIGNATURE_BITS * 0.6);
  });
});

describe('unitLength', () => {
  it('scales to length 1 and leaves a zero vector alone', () => {
    const scaled = unitLength([3, 4]);
    expect(scaled[0]).toBeCloseTo(0.6);
    expect(scaled[1]).toBeCloseTo(0.8);
    expect(unitLength([0, 0])).toEqual([0, 0]);
  });
});
