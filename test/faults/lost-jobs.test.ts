// A run whose job is deleted from Redis completes anyway: the sweeper finds the run without a live job and enqueues
// it again (a queued run), or dispatches its tool calls again (a run waiting for its built-in tools).
import { createLogger, schema } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunWorkerHandle, startRunWorker } from '../../services/run-worker/src/worker.js';
import { startToolWorker, type ToolWorker } from '../../services/tool-worker/src/worker.js';
import { allTerminal, reportFigures, runRows, threadMessages } from '../support/fault-runs.js';
import { type ApiClient, apiClient } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';

const LEASE_MS = 1500;
const SWEEP_INTERVAL_MS = 500;
const GRACE_MS = 500;
const log = createLogger({ name: 'test', level: 'silent', pretty: false });

let stack: Stack;
let api: ApiClient;
let runWorker: RunWorkerHandle | undefined;
let toolWorker: ToolWorker | undefined;

beforeAll(async () => {
  stack = await startStack(
    {
      RUN_LEASE_MS: String(LEASE_MS),
      SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      SWEEP_QUEUED_GRACE_MS: String(GRACE_MS),
      RUN_JOB_LOCK_MS: '1000',
    },
    { runWorker: false, toolWorker: false },
  );
  api = apiClient(stack.api.url, (await stack.newUser('lost jobs')).key);
});

afterAll(async () => {
  await runWorker?.close();
  await toolWorker?.close();
  await stack?.close();
});

async function createRun(body: Record<string, unknown>, text: string, options: Record<string, unknown> = {}) {
  const assistant = await api.json<{ id: string }>('/v1/assistants', { method: 'POST', body });
  return api.json<{ id: string; thread_id: string }>('/v1/threads/runs', {
    method: 'POST',
    body: { assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: text }] }, ...options },
  });
}

describe('a run whose job is deleted from Redis', () => {
  it('completes a queued run whose job was removed before any worker took it', async () => {
    const run = await createRun({ model: 'offline' }, 'Hello, is anyone there?');
    const queues = stack.api.deps.queues;
    expect(await queues.runs.getJobState(run.id)).toBe('waiting');
    await queues.runs.remove(run.id);
    expect(await queues.runs.getJobState(run.id)).toBe('unknown');

    const startedAt = Date.now();
    runWorker = await startRunWorker(stack.config, log);
    const { rows, at } = await allTerminal(
      stack.api.deps.db,
      [run.id],
      LEASE_MS + SWEEP_INTERVAL_MS + GRACE_MS + 5_000,
    );
    expect(rows[0]?.status).toBe('completed');
    const answers = (await threadMessages(stack.api.deps.db, run.thread_id)).filter(
      (row) => row.role === 'assistant',
    );
    expect(answers).toHaveLength(1);
    reportFigures('queued run whose job was removed', { completedMsAfterWorkerStart: at - startedAt });
  });

  it('completes a run whose tool continuation and tool jobs were removed while its tools waited', async () => {
    runWorker ??= await startRunWorker(stack.config, log);
    const run = await createRun(
      { model: 'offline', tools: [{ type: 'run_sql' }] },
      JSON.stringify({ query: 'select 41 + 1 as answer' }),
      { tool_choice: { type: 'function', function: { name: 'run_sql' } } },
    );
    // No tool worker yet: the run waits for its dispatched call, held by nobody, carried by its continuation job.
    let seen = '';
    const [waiting] = await waitFor(
      async () => {
        const [row] = await runRows(stack.api.deps.db, [run.id]);
        seen = JSON.stringify({
          status: row?.status,
          jobId: row?.jobId,
          lease: row?.leaseOwner,
          error: row?.lastError,
        });
        const isWaiting = row?.status === 'in_progress' && row.jobId !== null && row.leaseOwner === null;
        return isWaiting ? [row] : null;
      },
      { timeoutMs: 15_000, what: () => `the run to wait for its tool call (seen ${seen})` },
    );
    const queues = stack.api.deps.queues;
    const continuation = waiting?.jobId ?? '';
    expect(await queues.runs.getJobState(continuation)).toBe('waiting-children');
    await queues.runs.remove(continuation, { removeChildren: true });
    expect(await queues.runs.getJobState(continuation)).toBe('unknown');
    const [step] = await stack.api.deps.db
      .select()
      .from(schema.runSteps)
      .where(eq(schema.runSteps.runId, run.id));
    const callIds =
      step?.stepDetails.type === 'tool_calls' ? step.stepDetails.tool_calls.map((call) => call.id) : [];
    expect(callIds).toHaveLength(1);
    // The first dispatch's child job was named after its call: gone with its parent.
    for (const callId of callIds) expect(await queues.tools.getJobState(callId)).toBe('unknown');

    // The sweeper dispatches the call again (the first dispatch's jobs are gone); a tool worker then runs it.
    await waitFor(async () => ((await queues.tools.getJobCounts('waiting')).waiting ?? 0) > 0, {
      timeoutMs: LEASE_MS + SWEEP_INTERVAL_MS + GRACE_MS + 5_000,
      what: 'the tool call to be dispatched again',
    });
    const startedAt = Date.now();
    toolWorker = await startToolWorker(stack.config, log);
    const { rows, at } = await allTerminal(stack.api.deps.db, [run.id], 20_000);
    expect(rows[0]?.status).toBe('completed');
    const executions = await stack.api.deps.db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.runId, run.id));
    expect(executions.map((row) => [row.tool, row.status])).toEqual([['run_sql', 'succeeded']]);
    const answers = (await threadMessages(stack.api.deps.db, run.thread_id)).filter(
      (row) => row.role === 'assistant',
    );
    expect(JSON.stringify(answers.at(-1)?.content)).toContain('42');
    reportFigures('tool continuation removed', { completedMsAfterToolWorkerStart: at - startedAt });
  });
});
