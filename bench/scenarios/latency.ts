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
  /** Where the time goes, from the arrival of the first frame of each stage's closing event. */
  stages: Record<StageName, LatencySummary>;
  framesPerRun: number;
}

/** Each stage ends with the first frame of an event; a stage's time is that frame minus the previous one. */
const stageEnds = {
  'POST → thread.run.created (API: thread, run, enqueue)': 'thread.run.created',
  'created → thread.run.in_progress (queue pick-up, claim)': 'thread.run.in_progress',
  'in_progress → first delta (history, model, message rows)': 'thread.message.delta',
  'first delta → thread.run.completed (deltas, final commit)': 'thread.run.completed',
} as const;
type StageName = keyof typeof stageEnds;

function stageTimes(firstSeen: Record<string, number>): Array<[StageName, number]> {
  let previous = 0;
  return Object.entries(stageEnds).map(([name, event]) => {
    const at = firstSeen[event] ?? previous;
    const time = at - previous;
    previous = at;
    return [name as StageName, time];
  });
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
  const stages = new Map<StageName, number[]>(Object.keys(stageEnds).map((name) => [name as StageName, []]));
  let frames = 0;
  for (const [index, threadId] of threads.entries()) {
    if (performance.now() > deadline) break;
    const run = await timeStreamedRun(v1, `/threads/${threadId}/runs`, { assistant_id: assistantId });
    if (run.status !== 'completed') throw new Error(`a latency run ended ${run.status}`);
    if (index < WARM_UP_RUNS) continue;
    completed.push(run.finishedMs);
    frames = run.frames;
    for (const [name, time] of stageTimes(run.firstSeen)) stages.get(name)?.push(time);
    if (run.firstDeltaMs !== null) firstDelta.push(run.firstDeltaMs);
  }
  return {
    runs: completed.length,
    completed: roundSummary(summarise(completed)),
    firstDelta: roundSummary(summarise(firstDelta)),
    stages: Object.fromEntries(
      [...stages.entries()].map(([name, times]) => [name, roundSummary(summarise(times))]),
    ) as Record<StageName, LatencySummary>,
    framesPerRun: frames,
  };
}
