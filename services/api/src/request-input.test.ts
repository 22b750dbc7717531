import { describe, expect, it } from 'vitest';
import { isNestedDeeperThan, MAX_JSON_DEPTH, parseByteSize } from './request-input.js';

describe('isNestedDeeperThan', () => {
  it('counts arrays and objects, and stops early on input nested millions deep', () => {
    expect(isNestedDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(isNestedDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(isNestedDeeperThan('['.repeat(10_000_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '[[[[{{{{ \\" "[[[[', b: ['"]]]]'] });
    expect(isNestedDeeperThan(text, 2)).toBe(false);
    expect(isNestedDeeperThan(`["\\\\", [[1]]]`, 2)).toBe(true);
  });
});

describe('parseByteSize', () => {
  it('reads the sizes express accepted', () => {
    expect(parseByteSize('1mb')).toBe(1_048_576);
    expect(parseByteSize('20MB')).toBe(20 * 1_048_576);
    expect(parseByteSize('512kb')).toBe(524_288);
    expect(parseByteSize('1000')).toBe(1000);
    expect(() => parseByteSize('lots')).toThrow(/not a size/);
  });
});
