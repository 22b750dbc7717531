// Scenario 2, latency at low load: one streamed run at a time, POST → thread.run.completed received.
import { createThreads } from '../api-setup.js';
import type { ApiClient } from '../http-client.js';
import { type LatencySummary, roundSummary, summarise } from '../stats.js';
import { timeStreamedRun } from '../streamed-run.js';

export interface LatencyResult {
  runs: number;
  /** POST /v1/threads/{id}/runs (stream: true) → `thread.run.completed` frame. */
  completed: LatencySummary;
  /** POST → first `thread.message.delta` frame. */
  firstDelta: LatencySummary;
}

export const WARM_UP_RUNS = 20;

export async function measureLatency(
  v1: ApiClient,
  assistantId: string,
  runs: number,
  deadline: number,
): Promise<LatencyResult> {
  // A fresh thread per run, made beforehand, so every run reads the same short history.
  const threads = await createThreads(v1, runs + WARM_UP_RUNS, 'Hello, how fast is this?');
  const completed: number[] = [];
  const firstDelta: number[] = [];
  for (const [index, threadId] of threads.entries()) {
    if (performance.now() > deadline) break;
    const run = await timeStreamedRun(v1, `/threads/${threadId}/runs`, { assistant_id: assistantId });
    if (run.status !== 'completed') throw new Error(`a latency run ended ${run.status}`);
    if (index < WARM_UP_RUNS) continue;
    completed.push(run.finishedMs);
    if (run.firstDeltaMs !== null) firstDelta.push(run.firstDeltaMs);
  }
  return {
    runs: completed.length,
    completed: roundSummary(summarise(completed)),
    firstDelta: roundSummary(summarise(firstDelta)),
  };
}
