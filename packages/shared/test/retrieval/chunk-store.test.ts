import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, createDb, type Db } from '../../src/db/client.js';
import type { ChunkFilter } from '../../src/retrieval/attribute-filters.js';
import {
  type ChunkAttributes,
  deleteChunks,
  saveChunks,
  searchChunks,
  updateChunkAttributes,
} from '../../src/retrieval/chunk-store.js';
import { offlineEmbedding } from '../../src/retrieval/offline-embedding.js';

const PROJECT = 'proj_chunks';
const STORE = 'vs_handbook';

/** A handbook of passages on unrelated subjects: each question below is answered by exactly one of them. */
const handbook: Array<{ fileId: string; filename: string; attributes: ChunkAttributes; text: string }> = [
  {
    fileId: 'file_password',
    filename: 'accounts.md',
    attributes: { team: 'support', year: 2024, public: true },
    text: 'If you forgot your password, open the sign-in page and choose "Forgot password". We email a reset link that expires after 30 minutes; follow it to choose a new password.',
  },
  {
    fileId: 'file_refunds',
    filename: 'refunds.md',
    attributes: { team: 'billing', year: 2023, public: true },
    text: 'Refunds: customers may return unused items within 30 days of delivery for a full refund to the original payment method. Shipping costs are not refunded.',
  },
  {
    fileId: 'file_vacation',
    filename: 'people.md',
    attributes: { team: 'hr', year: 2025, public: false },
    text: 'Employees accrue 2 vacation days per month of service. Unused vacation carries over to the next year up to a maximum of 10 days.',
  },
  {
    fileId: 'file_security',
    filename: 'security.md',
    attributes: { team: 'security', year: 2025, public: false },
    text: 'Production databases are encrypted at rest with AES-256, and backups are taken every night and kept for 35 days in a second region.',
  },
  {
    fileId: 'file_shipping',
    filename: 'shipping.md',
    attributes: { team: 'billing', year: 2024, public: true },
    text: 'Orders ship from our Rotterdam warehouse. Standard delivery takes 3 to 5 working days within the EU; express delivery arrives the next working day.',
  },
  {
    fileId: 'file_oncall',
    filename: 'oncall.md',
    attributes: { team: 'security', year: 2022, public: false },
    text: 'The on-call engineer acknowledges pages within 15 minutes, opens an incident channel, and writes the post-mortem within five working days.',
  },
  {
    fileId: 'file_expenses',
    filename: 'expenses.md',
    attributes: { team: 'hr', year: 2024, public: false },
    text: 'Travel expenses are reimbursed when submitted with receipts within 60 days. Economy class is the rule for flights shorter than six hours.',
  },
];

let database: TestDatabase;
let db: Db;

async function save(store: string, project: string, entries = handbook): Promise<void> {
  for (const entry of entries) {
    await saveChunks(db, {
      projectId: project,
      vectorStoreId: store,
      fileId: entry.fileId,
      filename: entry.filename,
      attributes: entry.attributes,
      chunks: [
        {
          index: 0,
          text: entry.text,
          tokens: Math.ceil(entry.text.length / 4),
          embedding: offlineEmbedding(entry.text),
        },
      ],
    });
  }
}

function search(
  query: string,
  options: {
    maxResults?: number;
    scoreThreshold?: number;
    filters?: ChunkFilter;
    stores?: string[];
    project?: string;
  } = {},
) {
  return searchChunks(db, {
    projectId: options.project ?? PROJECT,
    vectorStoreIds: options.stores ?? [STORE],
    query,
    queryEmbedding: offlineEmbedding(query),
    maxResults: options.maxResults ?? 10,
    scoreThreshold: options.scoreThreshold ?? 0,
    ...(options.filters ? { filters: options.filters } : {}),
  });
}

async function fileIds(query: string, filters: ChunkFilter): Promise<string[]> {
  return (await search(query, { filters })).map((match) => match.fileId).sort();
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 3 });
  await save(STORE, PROJECT);
  await save(
    'vs_other_project',
    'proj_other',
    handbook.map((entry) => ({ ...entry, fileId: `other_${entry.fileId}` })),
  );
});

afterAll(async () => {
  await closeDb(db);
  await database.drop();
});

describe('searchChunks', () => {
  it.each([
    ['How do I reset my password when I have forgotten it?', 'file_password'],
    ['Can I get my money back if I return something?', 'file_refunds'],
    ['how many days off do staff get each year', 'file_vacation'],
    ['Are backups encrypted, and how long are they retained?', 'file_security'],
    ['How long does delivery take?', 'file_shipping'],
    ['What happens when an engineer is paged for an incident?', 'file_oncall'],
    ['when will my travel costs be reimbursed', 'file_expenses'],
  ])('finds the passage that answers "%s" first, among the distractors', async (question, expected) => {
    const [best] = await search(question);
    expect(best?.fileId).toBe(expected);
  });

  it('answers the file, name, attributes, text and a score in 0..1, best first', async () => {
    const matches = await search('forgot password reset link');
    expect(matches[0]).toMatchObject({
      fileId: 'file_password',
      filename: 'accounts.md',
      attributes: { team: 'support', year: 2024, public: true },
      text: handbook[0]?.text,
    });
    const scores = matches.map((match) => match.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(Math.max(...scores)).toBeLessThanOrEqual(1);
    expect(Math.min(...scores)).toBeGreaterThan(0);
  });

  it('scores 1 a chunk first by both full text and vector, and drops results under the threshold', async () => {
    const all = await search('forgot password reset link');
    expect(all[0]?.score).toBe(1);
    expect(all.length).toBeGreaterThan(2);
    const strict = await search('forgot password reset link', { scoreThreshold: 0.9 });
    expect(strict.map((match) => match.fileId)).toEqual(['file_password']);
  });

  it('answers at most maxResults', async () => {
    expect(await search('password refunds vacation backups', { maxResults: 2 })).toHaveLength(2);
  });

  it('searches only the given stores of the given project', async () => {
    expect(await search('password', { stores: ['vs_missing'] })).toEqual([]);
    expect(await search('password', { project: 'proj_nobody', stores: [STORE, 'vs_other_project'] })).toEqual(
      [],
    );
    const mine = await search('password', { stores: [STORE, 'vs_other_project'] });
    expect(mine.map((match) => match.fileId)).toContain('file_password');
    expect(mine.filter((match) => match.fileId.startsWith('other_'))).toEqual([]);
    const theirs = await search('password', { project: 'proj_other', stores: [STORE, 'vs_other_project'] });
    expect(theirs[0]?.fileId).toBe('other_file_password');
  });
});

describe('attribute filters', () => {
  const everything = handbook.map((entry) => entry.fileId).sort();
  /** A word of every passage: each is a full-text match, so only the filters leave any out. */
  const query = 'password refunds vacation backups delivery engineer travel';

  it('compares with eq and ne (a missing attribute is not equal)', async () => {
    expect(await fileIds(query, { type: 'eq', key: 'team', value: 'billing' })).toEqual([
      'file_refunds',
      'file_shipping',
    ]);
    expect(await fileIds(query, { type: 'eq', key: 'public', value: true })).toEqual([
      'file_password',
      'file_refunds',
      'file_shipping',
    ]);
    expect(await fileIds(query, { type: 'ne', key: 'team', value: 'hr' })).toEqual(
      everything.filter((id) => id !== 'file_vacation' && id !== 'file_expenses'),
    );
    expect(await fileIds(query, { type: 'ne', key: 'missing', value: 'x' })).toEqual(everything);
  });

  it('orders numbers with gt, gte, lt and lte, and never across types', async () => {
    expect(await fileIds(query, { type: 'gt', key: 'year', value: 2024 })).toEqual([
      'file_security',
      'file_vacation',
    ]);
    expect(await fileIds(query, { type: 'gte', key: 'year', value: 2024 })).toEqual([
      'file_expenses',
      'file_password',
      'file_security',
      'file_shipping',
      'file_vacation',
    ]);
    expect(await fileIds(query, { type: 'lt', key: 'year', value: 2023 })).toEqual(['file_oncall']);
    expect(await fileIds(query, { type: 'lte', key: 'year', value: 2023 })).toEqual([
      'file_oncall',
      'file_refunds',
    ]);
    expect(await fileIds(query, { type: 'gt', key: 'year', value: '2000' })).toEqual([]);
  });

  it('matches lists with in and nin', async () => {
    expect(await fileIds(query, { type: 'in', key: 'team', value: ['hr', 'support'] })).toEqual([
      'file_expenses',
      'file_password',
      'file_vacation',
    ]);
    expect(await fileIds(query, { type: 'nin', key: 'year', value: [2024, 2025] })).toEqual([
      'file_oncall',
      'file_refunds',
    ]);
  });

  it('reads a single value of in / nin as a list of one, and orders nothing against a list', async () => {
    expect(await fileIds(query, { type: 'in', key: 'team', value: 'support' })).toEqual(['file_password']);
    expect(await fileIds(query, { type: 'gt', key: 'year', value: [2000] })).toEqual([]);
  });

  it('combines filters with and / or, nested', async () => {
    const filter: ChunkFilter = {
      type: 'or',
      filters: [
        {
          type: 'and',
          filters: [
            { type: 'eq', key: 'team', value: 'security' },
            { type: 'gte', key: 'year', value: 2025 },
          ],
        },
        { type: 'eq', key: 'filename_tag', value: 'none' },
        { type: 'eq', key: 'team', value: 'support' },
      ],
    };
    expect(await fileIds(query, filter)).toEqual(['file_password', 'file_security']);
  });

  it('takes keys and values as data, never as SQL', async () => {
    const hostile = `team' = 'x' or true; drop table vector_store_chunks; --`;
    expect(await fileIds(query, { type: 'eq', key: hostile, value: "billing' or '1'='1" })).toEqual([]);
    expect(await search('password')).not.toEqual([]);
  });
});

describe('saving, updating and deleting chunks', () => {
  const store = 'vs_changes';

  it('replaces a file’s chunks when saved again, updates their attributes, and deletes them per store or everywhere', async () => {
    const [first, second] = handbook;
    if (!first || !second) throw new Error('handbook too short');
    await save(store, PROJECT, [first, second]);
    await save('vs_changes_too', PROJECT, [first]);
    await save(store, PROJECT, [first]);
    expect((await search('password refunds', { stores: [store] })).map((m) => m.fileId).sort()).toEqual([
      'file_password',
      'file_refunds',
    ]);

    await updateChunkAttributes(db, {
      vectorStoreId: store,
      fileId: first.fileId,
      attributes: { team: 'moved' },
    });
    expect(
      await search('password', { stores: [store], filters: { type: 'eq', key: 'team', value: 'moved' } }),
    ).toHaveLength(1);
    expect(
      await search('password', {
        stores: ['vs_changes_too'],
        filters: { type: 'eq', key: 'team', value: 'moved' },
      }),
    ).toHaveLength(0);

    await deleteChunks(db, { vectorStoreId: store, fileId: second.fileId });
    expect((await search('password refunds', { stores: [store] })).map((m) => m.fileId)).toEqual([
      'file_password',
    ]);
    await deleteChunks(db, { fileId: first.fileId });
    expect(await search('password', { stores: [store, 'vs_changes_too'] })).toEqual([]);
  });
});
