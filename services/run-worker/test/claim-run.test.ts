// The claim of a queued run, against real Postgres: one winner, and the first start time kept on a second claim.
import { schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRun } from '../src/run-store.js';
import { type Harness, startHarness } from './support/harness.js';
import { insertQueuedRun } from './support/rows.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('claim-run-test');
});

afterAll(async () => {
  await harness?.close();
});

describe('claimRun', () => {
  it('moves a queued run to in_progress once; a second claim finds nothing to take', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const claims = await Promise.all([claimRun(db, runId, new Date()), claimRun(db, runId, new Date())]);
    expect(claims.filter((run) => run !== null)).toHaveLength(1);
    expect(claims.find((run) => run !== null)?.status).toBe('in_progress');
  });

  it('keeps the time a run first started when it is claimed again after tool outputs', async () => {
    const { db } = harness.runtime;
    const { runId } = await insertQueuedRun(db);
    const first = new Date('2026-11-25T10:00:00.123Z');
    expect((await claimRun(db, runId, first))?.startedAt).toEqual(first);
    await db.update(schema.runs).set({ status: 'queued' }).where(eq(schema.runs.id, runId));
    const again = await claimRun(db, runId, new Date('2026-11-25T10:00:05.456Z'));
    expect(again?.startedAt).toEqual(first);
  });
});
