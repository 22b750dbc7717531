// The counters an operator watches for faults move: runs finished by status, model tokens, cost and first-token
// latency on the run worker's /metrics, the sweeper's actions, and the API's open SSE clients.
import { createLogger } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunWorkerHandle, startRunWorker } from '../../services/run-worker/src/worker.js';
import { allTerminal, reportFigures, sampleSum } from '../support/fault-runs.js';
import { sparePort } from '../support/own-services.js';
import { type ApiClient, apiClient, within } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let api: ApiClient;
let worker: RunWorkerHandle | undefined;
let workerPort: number;

beforeAll(async () => {
  workerPort = await sparePort();
  stack = await startStack(
    {
      RUN_WORKER_PORT: String(workerPort),
      RUN_LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '500',
      SWEEP_QUEUED_GRACE_MS: '500',
      OFFLINE_TOKEN_DELAY_MS: '30',
      // The offline model is free; a price makes its cost counter move.
      MODEL_PRICES: JSON.stringify({ offline: { input: 1000, output: 2000 } }),
    },
    { runWorker: false, toolWorker: false },
  );
  api = apiClient(stack.api.url, (await stack.newUser('metrics')).key);
});

afterAll(async () => {
  await worker?.close();
  await stack?.close();
});

const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
const workerMetrics = () => scrape(`http://127.0.0.1:${workerPort}`);
const apiMetrics = () => scrape(stack.api.url);

describe('metrics after a completed run, a cancelled run and a sweep', () => {
  it('moves the run, model, sweeper and SSE client metrics', async () => {
    // A queued run whose job is gone: only the sweeper can bring it to a worker.
    const assistant = await api.json<{ id: string }>('/v1/assistants', {
      method: 'POST',
      body: { model: 'offline' },
    });
    const orphan = await api.json<{ id: string }>('/v1/threads/runs', {
      method: 'POST',
      body: { assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hello there' }] } },
    });
    await stack.api.deps.queues.runs.remove(orphan.id);
    worker = await startRunWorker(
      stack.config,
      createLogger({ name: 'test', level: 'silent', pretty: false }),
    );
    expect(sampleSum(await workerMetrics(), 'threadwork_runs_finished_total')).toBe(0);
    await allTerminal(stack.api.deps.db, [orphan.id], 10_000);

    const words = Array.from({ length: 30 }, (_, index) => `m${index}`).join(' ');
    const stream = await api.streamChat(`Please repeat after me: ${words}`);
    await waitFor(async () => stream.deltas >= 2, { what: 'the stream to be under way' });
    const open = sampleSum(await apiMetrics(), 'threadwork_sse_clients');
    expect(open).toBe(1);
    const cancel = await api.call(`/v1/threads/${stream.threadId}/runs/${stream.runId}/cancel`, {
      method: 'POST',
    });
    expect(cancel.status).toBe(200);
    expect(await within(stream.ending, 10_000, 'the cancelled stream to end')).toMatchObject({
      kind: 'terminal',
      status: 'cancelled',
    });
    await waitFor(async () => sampleSum(await apiMetrics(), 'threadwork_sse_clients') === 0, {
      what: 'the SSE client gauge to go back to 0',
    });

    const text = await workerMetrics();
    const finished = (status: string) =>
      sampleSum(text, 'threadwork_runs_finished_total', [`status="${status}"`]);
    expect(finished('completed')).toBe(1);
    expect(finished('cancelled')).toBe(1);
    expect(sampleSum(text, 'threadwork_model_tokens_total', ['kind="prompt"'])).toBeGreaterThan(0);
    expect(sampleSum(text, 'threadwork_model_tokens_total', ['kind="completion"'])).toBeGreaterThan(0);
    expect(sampleSum(text, 'threadwork_model_cost_usd_total', ['model="offline"'])).toBeGreaterThan(0);
    expect(sampleSum(text, 'threadwork_model_first_token_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleSum(text, 'threadwork_sweeper_actions_total', ['action="requeued"'])).toBe(1);
    reportFigures('metrics', {
      sseClientsWhileOpen: open,
      tokens: sampleSum(text, 'threadwork_model_tokens_total'),
      costUsd: sampleSum(text, 'threadwork_model_cost_usd_total'),
      firstTokenSecondsSum: sampleSum(text, 'threadwork_model_first_token_seconds_sum'),
    });
  });
});
