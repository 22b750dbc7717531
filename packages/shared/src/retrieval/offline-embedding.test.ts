import { describe, expect, it } from 'vitest';
import { OFFLINE_EMBEDDING_DIMENSIONS, offlineEmbedding } from './offline-embedding.js';

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
}

const passages = {
  password:
    'To reset a forgotten password, choose "Forgot password" on the sign-in page; we email a link that expires in 30 minutes.',
  refunds:
    'Customers may return unused items within 30 days for a full refund to the original payment method.',
  backups: 'Databases are encrypted at rest and backed up every night; backups are kept for 35 days.',
  shipping: 'Standard delivery takes 3 to 5 working days; express delivery arrives the next working day.',
};

describe('offlineEmbedding', () => {
  it('is deterministic, unit length, and all zeros without words', () => {
    const vector = offlineEmbedding('Dog food for puppies');
    expect(vector).toHaveLength(OFFLINE_EMBEDDING_DIMENSIONS);
    expect(offlineEmbedding('Dog food for puppies')).toEqual(vector);
    expect(cosine(vector, vector)).toBeCloseTo(1, 6);
    expect(offlineEmbedding('?!').every((value) => value === 0)).toBe(true);
  });

  it.each([
    ['How can I reset my password?', 'password'],
    ['I forgot my password', 'password'],
    ['Can I return an item and get refunded?', 'refunds'],
    ['How long are backups retained?', 'backups'],
    ['When will my order be delivered?', 'shipping'],
  ] as const)('puts "%s" nearest the passage that answers it', (question, expected) => {
    const query = offlineEmbedding(question);
    const ranked = Object.entries(passages)
      .map(([name, text]) => ({ name, similarity: cosine(query, offlineEmbedding(text)) }))
      .sort((a, b) => b.similarity - a.similarity);
    expect(ranked[0]?.name).toBe(expected);
  });

  it('meets inflections and typos through word pieces', () => {
    const base = offlineEmbedding('encryption of backups');
    expect(cosine(base, offlineEmbedding('encrypted backup'))).toBeGreaterThan(
      cosine(base, offlineEmbedding('delivery times')),
    );
    expect(cosine(offlineEmbedding('pasword'), offlineEmbedding('password'))).toBeGreaterThan(0.3);
  });
});
