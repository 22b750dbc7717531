// Prepared statements run by node-postgres directly answer exactly what drizzle's own execute answers.
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db, newId, prepared, schema } from '../src/index.js';

const { apiKeys, threads, toolExecutions, usageLogs } = schema;

let database: TestDatabase;
let db: Db;
let ownerId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 2 });
  ownerId = newId('apiKey');
  await db.insert(apiKeys).values({ id: ownerId, name: 'lean', keyHash: `hash-${ownerId}`, role: 'user' });
});

afterAll(async () => {
  await db.$client.end();
  await database.drop();
});

/** A thread selected with nested fields, an expression with a decoder, and a placeholder through an encoder. */
function threadView(name: string) {
  return db
    .select({
      thread: { id: threads.id, metadata: threads.metadata, createdAt: threads.createdAt },
      owner: threads.ownerId,
      keys: sql<number>`(select count(*) from ${apiKeys})`.mapWith(Number),
    })
    .from(threads)
    .where(eq(threads.id, sql.placeholder('id')))
    .prepare(name);
}

describe('prepared', () => {
  it('answers rows as drizzle does: nested fields, dates, JSON and decoded expressions', async () => {
    const id = newId('thread');
    await db.insert(threads).values({ id, ownerId, metadata: { topic: 'lean', n: '1' } });
    const lean = await prepared(db, 'lean_thread_view', threadView).execute({ id });
    const drizzles = await threadView('drizzle_thread_view').execute({ id });
    expect(lean).toEqual(drizzles);
    expect(lean[0]?.thread.createdAt).toBeInstanceOf(Date);
    expect(lean[0]?.keys).toBe(1);
  });

  it('fills placeholders through their columns’ encoders (JSON, dates) and keeps literal nulls', async () => {
    const id = newId('thread');
    const at = new Date('2026-01-02T03:04:05.678Z');
    const insert = prepared(db, 'lean_insert_thread', (name) =>
      db
        .insert(threads)
        .values({
          id: sql.placeholder('id'),
          ownerId,
          metadata: sql`${sql.param(sql.placeholder('metadata'), threads.metadata)}`,
          lastActivityAt: sql`${sql.param(sql.placeholder('at'), threads.lastActivityAt)}`,
          assistantId: null,
        })
        .returning({ id: threads.id, metadata: threads.metadata, lastActivityAt: threads.lastActivityAt })
        .prepare(name),
    );
    const [row] = await insert.execute({ id, metadata: ['a', { b: null }], at });
    expect(row).toEqual({ id, metadata: ['a', { b: null }], lastActivityAt: at });
    const [stored] = await db.select().from(threads).where(eq(threads.id, id));
    expect(stored?.metadata).toEqual(['a', { b: null }]);
    expect(stored?.assistantId).toBeNull();
  });

  it('decodes columns node-postgres parses otherwise (a bigserial as a number)', async () => {
    const insertLog = db
      .insert(usageLogs)
      .values({
        runId: sql.placeholder('runId'),
        ownerId,
        model: 'offline',
        promptTokens: 1,
        completionTokens: 2,
        totalTokens: 3,
        costUsd: '0.5',
        latencyMs: 4,
      })
      .returning({ id: usageLogs.id, costUsd: usageLogs.costUsd });
    const [row] = await prepared(db, 'lean_usage_log', (name) => insertLog.prepare(name)).execute({
      runId: newId('run'),
    });
    expect(typeof row?.id).toBe('number');
    expect(row?.costUsd).toBe('0.50000000');
  });

  it('refuses to run without a value for every placeholder', async () => {
    const statement = prepared(db, 'lean_thread_missing', threadView);
    await expect(statement.execute({})).rejects.toThrow(/No value for placeholder "id"/);
  });

  it('leaves a missing left-joined row null, as drizzle does', async () => {
    const id = newId('thread');
    await db.insert(threads).values({ id, ownerId });
    const statement = prepared(db, 'lean_left_join', (name) =>
      db
        .select({ id: threads.id, execution: toolExecutions })
        .from(threads)
        .leftJoin(toolExecutions, eq(toolExecutions.callId, threads.id))
        .where(eq(threads.id, sql.placeholder('id')))
        .prepare(name),
    );
    expect(await statement.execute({ id })).toEqual([{ id, execution: null }]);
  });
});
