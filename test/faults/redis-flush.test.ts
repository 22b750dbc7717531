// Redis restarted empty (its own redis-server, nothing saved) while runs are queued and running: every run ends
// within the documented bound, Postgres loses nothing, new runs work without a restart, open streams end, a resume
// afterwards tells exactly the stored text, and every error of the outage goes to the log, none printed by a library.
import { schema } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allTerminal, reportFigures, textOf, threadMessages } from '../support/fault-runs.js';
import { type OwnServer, startOwnRedis } from '../support/own-services.js';
import { type ApiClient, apiClient, type RunStream, within } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';

const LEASE_MS = 1500;
const SWEEP_INTERVAL_MS = 500;
const GRACE_MS = 500;
const TOKEN_DELAY_MS = 40;

let redis: OwnServer;
let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  redis = await startOwnRedis();
  stack = await startStack(
    {
      REDIS_URL: redis.url,
      RUN_LEASE_MS: String(LEASE_MS),
      SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      SWEEP_QUEUED_GRACE_MS: String(GRACE_MS),
      RUN_JOB_LOCK_MS: '1000',
      RUN_CONCURRENCY: '3',
      OFFLINE_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS),
    },
    { toolWorker: false },
  );
  api = apiClient(stack.api.url, (await stack.newUser('flush')).key);
});

afterAll(async () => {
  await stack?.close();
  await redis?.destroy();
});

function message(index: number): string {
  return `Please repeat after me: ${Array.from({ length: 25 }, (_, word) => `f${index}x${word}`).join(' ')}`;
}

describe('Redis restarted empty under queued and running runs', () => {
  it('ends every run within the bound, keeps Postgres whole, serves new runs and resumes with the stored text', async () => {
    const streams: RunStream[] = await Promise.all(
      Array.from({ length: 6 }, (_, index) => api.streamChat(message(index))),
    );
    // Three run (RUN_CONCURRENCY), three wait in the queue.
    await waitFor(async () => streams.filter((stream) => stream.deltas >= 2).length >= 3, {
      timeoutMs: 20_000,
      what: 'three runs to be streaming',
    });
    // Every connection, queue and worker has an error listener: a library prints nothing of the outage itself.
    const printed = vi.spyOn(console, 'error');
    await redis.stop();
    await redis.start();
    const restartedAt = Date.now();

    const endings = await within(
      Promise.all(streams.map((stream) => stream.ending)),
      30_000,
      'every open stream to end',
    );
    for (const ending of endings) expect(['terminal', 'interrupted']).toContain(ending.kind);

    const runIds = streams.map((stream) => stream.runId ?? '');
    const answerMs = 60 * TOKEN_DELAY_MS;
    const bound = LEASE_MS + SWEEP_INTERVAL_MS + GRACE_MS + answerMs + 2_000;
    const { rows, at } = await allTerminal(stack.api.deps.db, runIds, bound);
    const settledMs = at - restartedAt;
    expect(settledMs).toBeLessThan(bound);
    for (const row of rows) expect(row.status).toBe('completed');

    // Nothing in Postgres was lost: each chat's thread holds its question and one answer.
    for (const [index, stream] of streams.entries()) {
      const messages = await threadMessages(stack.api.deps.db, stream.threadId ?? '');
      expect(messages.filter((row) => row.role === 'user').map(textOf)).toEqual([message(index)]);
      expect(messages.filter((row) => row.role === 'assistant')).toHaveLength(1);
    }

    // A new run works without restarting anything.
    const fresh = await api.json<{ status: string; response: string }>('/api/chat', {
      method: 'POST',
      body: { message: 'Hello after the flush' },
    });
    expect(fresh.status).toBe('completed');
    expect(fresh.response).toContain('Hello after the flush');

    // A resume from the start tells exactly the stored text, whatever the log kept.
    for (const stream of streams) {
      const [answer] = await stack.api.deps.db
        .select()
        .from(schema.messages)
        .where(eq(schema.messages.runId, stream.runId ?? ''));
      const resumed = await api.resume(stream.runId ?? '', 0);
      const ending = await within(resumed.ending, 10_000, `the resume of ${stream.runId}`);
      expect(ending).toMatchObject({ kind: 'terminal', status: 'completed' });
      expect(resumed.text).toBe(textOf(answer ?? { content: [] }));
    }
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
    reportFigures('Redis restarted empty', {
      streams: endings.map((ending) => ending.kind),
      allRunsTerminalMsAfterRestart: settledMs,
      boundMs: bound,
    });
  }, 90_000);
});
