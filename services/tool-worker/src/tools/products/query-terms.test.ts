import { describe, expect, it } from 'vitest';
import { meaningfulTerms, requiredMatches } from './query-terms.js';

describe('meaningfulTerms', () => {
  it('drops English and Hebrew stop words, punctuation, single letters and repeats', () => {
    expect(meaningfulTerms('Show me some DOG food, please! I want dog food')).toEqual(['dog', 'food']);
    expect(meaningfulTerms('הראה לי מזון לכלבים בבקשה')).toEqual(['מזון', 'לכלבים']);
    expect(meaningfulTerms("I'm looking for a 5 kg bag")).toEqual(['5', 'kg', 'bag']);
    expect(meaningfulTerms('%_% show me')).toEqual([]);
  });
});

describe('requiredMatches', () => {
  it('asks for every word of a short query and most words of a long one', () => {
    expect([1, 2, 3, 4, 5].map(requiredMatches)).toEqual([1, 2, 2, 3, 3]);
  });
});
