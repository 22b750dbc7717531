// Postgres (its own cluster) stopped for 10 s while runs stream: the API answers 503 with Retry-After meanwhile,
// a run left stuck by the outage is cancelled on request, and the sweeper leaves no run unsettled afterwards.
import { ensureDatabase } from '@threadwork/shared';
import { databaseUrlFor, waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTerminal, reportFigures, runRows, textOf, threadMessages } from '../support/fault-runs.js';
import { type OwnServer, startOwnPostgres } from '../support/own-services.js';
import { type ApiClient, apiClient, type RunStream, within } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';

const OUTAGE_MS = 10_000;
const LEASE_MS = 1500;
// Long enough that a run the outage left unheld can be seen stuck (and cancelled) before the sweeper settles it.
const SWEEP_INTERVAL_MS = 4000;
const GRACE_MS = 500;

let postgres: OwnServer;
let stack: Stack;
let api: ApiClient;

beforeAll(async () => {
  postgres = await startOwnPostgres();
  const databaseUrl = databaseUrlFor(postgres.url, 'threadwork');
  await ensureDatabase(databaseUrl);
  stack = await startStack(
    {
      DATABASE_URL: databaseUrl,
      RUN_LEASE_MS: String(LEASE_MS),
      SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      SWEEP_QUEUED_GRACE_MS: String(GRACE_MS),
      RUN_JOB_LOCK_MS: '1000',
      OFFLINE_TOKEN_DELAY_MS: '100',
      // A verified key is remembered, so requests get past authentication to the routes' own queries.
      AUTH_CACHE_MS: '600000',
      RATE_LIMIT_PER_MINUTE: '100000',
    },
    { toolWorker: false },
  );
  api = apiClient(stack.api.url, (await stack.newUser('outage')).key);
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await postgres?.destroy();
}, 30_000);

async function expectUnavailable(response: Response, what: string): Promise<void> {
  expect(response.status, what).toBe(503);
  expect(Number(response.headers.get('retry-after')), what).toBeGreaterThan(0);
  await response.body?.cancel();
}

function message(index: number): string {
  return `Please repeat after me: ${Array.from({ length: 25 }, (_, word) => `p${index}x${word}`).join(' ')}`;
}

describe('Postgres stopped for 10 s under load', () => {
  it('answers 503 meanwhile, cancels a stuck run, and leaves no run unsettled afterwards', async () => {
    const streams: RunStream[] = await Promise.all(
      Array.from({ length: 4 }, (_, index) => api.streamChat(message(index))),
    );
    await waitFor(async () => streams.every((stream) => stream.deltas >= 2), {
      timeoutMs: 20_000,
      what: 'every run to be streaming',
    });
    const [stuck] = streams;
    const runIds = streams.map((stream) => stream.runId ?? '');

    await postgres.stop();
    const stoppedAt = Date.now();
    let answered = 0;
    try {
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        await expectUnavailable(
          await api.call('/v1/threads', { method: 'POST', body: {} }),
          'thread creation',
        );
        await expectUnavailable(await api.call(`/api/runs/${stuck?.runId}`), 'polling a run');
        await expectUnavailable(
          await api.call('/api/chat', {
            method: 'POST',
            body: { message: 'during the outage', wait: false },
          }),
          'a new chat',
        );
        await expectUnavailable(
          await api.call(`/v1/threads/${stuck?.threadId}/runs/${stuck?.runId}/cancel`, { method: 'POST' }),
          'a cancel',
        );
        answered += 4;
        // Paced load: the shared machine's CPUs are not this test's alone.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await postgres.start();
    }
    const restartedAt = Date.now();

    // The outage outlived the runs' leases: nobody holds the first run, which waits for the sweeper.
    const [before] = await waitFor(
      async () => runRows(stack.api.deps.db, [stuck?.runId ?? '']).catch(() => null),
      {
        timeoutMs: 10_000,
        what: 'Postgres to answer again',
      },
    );
    expect(before?.status).toBe('in_progress');
    expect(before?.leaseExpiresAt?.getTime() ?? 0).toBeLessThan(Date.now());
    const cancel = await api.call(`/v1/threads/${stuck?.threadId}/runs/${stuck?.runId}/cancel`, {
      method: 'POST',
    });
    expect(cancel.status).toBe(200);

    const bound = LEASE_MS + SWEEP_INTERVAL_MS + GRACE_MS + 3_000;
    const { rows, at } = await allTerminal(stack.api.deps.db, runIds, bound);
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(stuck?.runId ?? '')?.status).toBe('cancelled');
    for (const stream of streams.slice(1)) {
      const run = byId.get(stream.runId ?? '');
      // The sweeper failed them, keeping the text their clients received (or their worker ended them first).
      expect(['failed', 'completed']).toContain(run?.status);
    }
    const endings = await within(
      Promise.all(streams.map((stream) => stream.ending)),
      10_000,
      'every stream to end',
    );
    for (const [index, stream] of streams.entries()) {
      expect(endings[index]?.kind).toBe('terminal');
      const answers = (await threadMessages(stack.api.deps.db, stream.threadId ?? '')).filter(
        (row) => row.role === 'assistant',
      );
      expect(answers).toHaveLength(1);
      expect(textOf(answers[0] ?? { content: [] })).toBe(stream.text);
    }

    const fresh = await api.json<{ status: string }>('/api/chat', {
      method: 'POST',
      body: { message: 'Back again' },
    });
    expect(fresh.status).toBe('completed');
    reportFigures('Postgres stopped for 10 s', {
      unavailableAnswers: answered,
      statuses: rows.map((row) => row.status),
      allRunsTerminalMsAfterRestart: at - restartedAt,
      boundMs: bound,
    });
  }, 90_000);
});
