import { describe, expect, it } from 'vitest';
import { isIdOf, newId } from './ids.js';

describe('newId', () => {
  it('makes prefixed ids of 24 base62 characters', () => {
    const id = newId('run');
    expect(id).toMatch(/^run_[0-9A-Za-z]{24}$/);
    expect(isIdOf('run', id)).toBe(true);
    expect(isIdOf('thread', id)).toBe(false);
  });

  it('sorts ids in creation order by their bytes, within one millisecond and across many', () => {
    const start = Date.now() + 1000;
    const ids: string[] = [];
    for (let ms = 0; ms < 50; ms += 1) {
      for (let n = 0; n < 40; n += 1) ids.push(newId('message', start + ms));
    }
    const byBytes = [...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
    expect(byBytes).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps order when the clock goes back', () => {
    const later = newId('step', Date.now() + 5000);
    const earlierClock = newId('step', Date.now());
    expect(earlierClock > later).toBe(true);
  });

  it('spreads the tails of different milliseconds at random', () => {
    const base = Date.now() + 10_000;
    const tails = Array.from({ length: 200 }, (_, i) => newId('call', base + i * 2).slice(-16));
    expect(new Set(tails).size).toBe(200);
    // The low half of the tail takes any base62 digit first, not just the small ones.
    const firstDigits = new Set(tails.map((tail) => tail[8]));
    expect(firstDigits.size).toBeGreaterThan(30);
  });
});
