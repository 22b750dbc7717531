// Scenario 1, throughput: many clients in parallel, each creating a thread and run (POST /v1/threads/runs, not
// streamed) and waiting for the run to end, observed on the event bus; runs completed per second.
import type { CompletionWatcher } from '../completions.js';
import { type CounterSource, type Counters, perRun } from '../counters.js';
import type { ApiClient } from '../http-client.js';
import { type LatencySummary, round, roundSummary, summarise } from '../stats.js';

export interface ThroughputOptions {
  clients: number;
  seconds: number;
  warmUpSeconds: number;
  /** Upper bound on runs created, whatever the duration. */
  maxRuns: number;
  /** The user message, and fields added to each POST /v1/threads/runs body (e.g. tool_choice). */
  message: string;
  extraBody?: Record<string, unknown>;
  /** CPU ms used so far by each group of service processes, read at the window's edges. */
  cpu?: () => Record<string, number>;
  /** Work counters (commits, rows, Redis commands), read at the window's edges. */
  counters?: CounterSource;
  /** Done once the warm-up has filled the tables, while the clients go on; the window starts after it. */
  beforeWindow?: () => Promise<void>;
}

export interface ThroughputResult {
  clients: number;
  seconds: number;
  runsPerSecond: number;
  /** Runs that completed inside the measured window. */
  completed: number;
  failed: number;
  /** Create → run ended, for runs inside the window. */
  runLatency: LatencySummary;
  /** CPU ms per completed run, by service, over the window. */
  cpuMsPerRun: Record<string, number>;
  /** Postgres commits and rows of the bench database, Redis commands (* all clients), per completed run. */
  workPerRun: Counters;
  firstError: string | null;
}

const RUN_TIMEOUT_MS = 30_000;

export async function measureThroughput(
  v1: Pick<ApiClient, 'json'>,
  watcher: CompletionWatcher,
  assistantId: string,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let created = 0;
  let completed = 0;
  let failed = 0;
  const latencies: number[] = [];
  let firstError: string | null = null;
  let cpuAtStart: Record<string, number> = {};
  let cpuAtEnd: Record<string, number> = {};
  let countersAtStart: Promise<Counters> = Promise.resolve({});
  let countersAtEnd: Promise<Counters> = Promise.resolve({});
  let endTimer: NodeJS.Timeout | undefined;
  const openWindow = async () => {
    await options.beforeWindow?.();
    windowStart = performance.now();
    windowEnd = windowStart + options.seconds * 1000;
    cpuAtStart = options.cpu?.() ?? {};
    countersAtStart = options.counters?.read() ?? countersAtStart;
    endTimer = setTimeout(() => {
      cpuAtEnd = options.cpu?.() ?? {};
      countersAtEnd = options.counters?.read() ?? countersAtEnd;
    }, options.seconds * 1000);
  };
  let windowOpened: Promise<void> = Promise.resolve();
  let windowError: unknown;
  const warmUpTimer = setTimeout(() => {
    windowOpened = openWindow().catch((error) => {
      windowError = error;
      windowEnd = 0;
    });
  }, options.warmUpSeconds * 1000);
  const client = async () => {
    while (performance.now() < windowEnd && created < options.maxRuns) {
      created += 1;
      const begun = performance.now();
      try {
        const run = await v1.json<{ id: string }>('POST', '/threads/runs', {
          assistant_id: assistantId,
          thread: { messages: [{ role: 'user', content: options.message }] },
          ...options.extraBody,
        });
        const status = await watcher.ending(run.id, RUN_TIMEOUT_MS);
        const ended = performance.now();
        if (ended < windowStart || ended > windowEnd) continue;
        if (status !== 'completed') {
          failed += 1;
          firstError ??= `run ${run.id} ended ${status}`;
          continue;
        }
        completed += 1;
        latencies.push(ended - begun);
      } catch (error) {
        failed += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  await windowOpened;
  clearTimeout(warmUpTimer);
  clearTimeout(endTimer);
  if (windowError) throw windowError;
  const cpuMsPerRun = Object.fromEntries(
    Object.entries(cpuAtEnd).map(([name, ms]) => [
      name,
      round((ms - (cpuAtStart[name] ?? 0)) / Math.max(1, completed), 2),
    ]),
  );
  return {
    clients: options.clients,
    seconds: options.seconds,
    runsPerSecond: round(completed / options.seconds, 1),
    completed,
    failed,
    runLatency: roundSummary(summarise(latencies)),
    cpuMsPerRun,
    workPerRun: perRun(await countersAtStart, await countersAtEnd, completed),
    firstError,
  };
}
