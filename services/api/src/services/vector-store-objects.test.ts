import { describe, expect, it } from 'vitest';
import type { FileTally, VectorStoreRow } from '../repositories/vector-stores.js';
import { isExpired, toFileBatchObject, toVectorStoreObject } from './vector-store-objects.js';

const DAY_MS = 86_400_000;
const lastActiveAt = new Date('2026-12-01T00:00:00Z');

function store(expiresAfterDays: number | null): VectorStoreRow {
  return {
    id: 'vs_1',
    ownerId: 'proj_1',
    name: 'docs',
    description: null,
    metadata: {},
    expiresAfterDays,
    lastActiveAt,
    createdAt: lastActiveAt,
  };
}

function tally(counts: Partial<FileTally['counts']>): FileTally {
  return { counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, ...counts }, usageBytes: 10 };
}

describe('toVectorStoreObject', () => {
  it('counts the files and is in progress while one is', () => {
    const object = toVectorStoreObject(store(null), tally({ in_progress: 1, completed: 2, failed: 1 }));
    expect(object.status).toBe('in_progress');
    expect(object.file_counts).toEqual({ in_progress: 1, completed: 2, failed: 1, cancelled: 0, total: 4 });
    expect(toVectorStoreObject(store(null), tally({ completed: 2 })).status).toBe('completed');
  });

  it('expires `days` after its last activity', () => {
    const row = store(7);
    expect(toVectorStoreObject(row, tally({})).expires_at).toBe((lastActiveAt.getTime() + 7 * DAY_MS) / 1000);
    expect(isExpired(row, new Date(lastActiveAt.getTime() + 7 * DAY_MS - 1))).toBe(false);
    expect(isExpired(row, new Date(lastActiveAt.getTime() + 7 * DAY_MS))).toBe(true);
    expect(isExpired(store(null), new Date('2100-01-01'))).toBe(false);
  });
});

describe('toFileBatchObject', () => {
  const batch = {
    id: 'vsfb_1',
    vectorStoreId: 'vs_1',
    ownerId: 'proj_1',
    cancelledAt: null,
    createdAt: lastActiveAt,
  };

  it('is in progress while a file is, completed after, cancelled once cancelled', () => {
    expect(toFileBatchObject(batch, tally({ in_progress: 1 })).status).toBe('in_progress');
    expect(toFileBatchObject(batch, tally({ completed: 1, failed: 1 })).status).toBe('completed');
    expect(toFileBatchObject({ ...batch, cancelledAt: new Date() }, tally({ completed: 1 })).status).toBe(
      'cancelled',
    );
  });
});
