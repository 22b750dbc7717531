// Scenario 3, one built-in tool hop: list_tables on a tiny schema vs the same run without tools, interleaved.
import { createAssistant, createThreads } from '../api-setup.js';
import type { ApiClient } from '../http-client.js';
import { type LatencySummary, round, roundSummary, summarise } from '../stats.js';
import { timeStreamedRun } from '../streamed-run.js';

export type ToolHopResult =
  | {
      status: 'measured';
      runs: number;
      withTool: LatencySummary;
      withoutTool: LatencySummary;
      /** p50(with tool) − p50(without), p99 likewise. */
      extraP50: number;
      extraP99: number;
    }
  | { status: 'blocked'; reason: string };

const MESSAGE = 'Please list the tables.';
const WARM_UP_RUNS = 10;
/** A tool run that takes longer than this means the tool path does not work; the scenario is then blocked. */
const FIRST_RUN_TIMEOUT_MS = 15_000;

export const FORCE_LIST_TABLES = { type: 'function', function: { name: 'list_tables' } };

async function firstToolRun(v1: ApiClient, threadId: string, assistantId: string): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`a list_tables run did not finish within ${FIRST_RUN_TIMEOUT_MS} ms`),
      FIRST_RUN_TIMEOUT_MS,
    );
  });
  const run = timeStreamedRun(v1, `/threads/${threadId}/runs`, {
    assistant_id: assistantId,
    tool_choice: FORCE_LIST_TABLES,
  }).then((timed) => {
    if (timed.status !== 'completed') return `a list_tables run ended ${timed.status}`;
    if (!timed.text.includes('list_tables'))
      return `a list_tables run answered without the tool: ${timed.text.slice(0, 120)}`;
    return null;
  });
  try {
    return await Promise.race([run, timeout]);
  } catch (error) {
    return `a list_tables run failed: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function measureToolHop(
  v1: ApiClient,
  runs: number,
  deadline: number,
  toolWorkerMissing: string | null,
): Promise<ToolHopResult> {
  if (toolWorkerMissing) return { status: 'blocked', reason: `no tool worker: ${toolWorkerMissing}` };
  const [withToolId, withoutToolId] = await Promise.all([
    createAssistant(v1, { model: 'offline', name: 'bench list_tables', tools: [{ type: 'list_tables' }] }),
    createAssistant(v1, { model: 'offline', name: 'bench no tools' }),
  ]);
  const total = runs + WARM_UP_RUNS;
  // Two threads per pair, and one for the check that the tool path works at all.
  const threads = await createThreads(v1, 2 * total + 1, MESSAGE);
  const problem = await firstToolRun(v1, threads.pop() ?? '', withToolId);
  if (problem) return { status: 'blocked', reason: problem };
  const withTool: number[] = [];
  const withoutTool: number[] = [];
  for (let index = 0; index < total && performance.now() < deadline; index += 1) {
    const plain = await timeStreamedRun(v1, `/threads/${threads[2 * index]}/runs`, {
      assistant_id: withoutToolId,
    });
    const tool = await timeStreamedRun(v1, `/threads/${threads[2 * index + 1]}/runs`, {
      assistant_id: withToolId,
      tool_choice: FORCE_LIST_TABLES,
    });
    if (plain.status !== 'completed' || tool.status !== 'completed') {
      throw new Error(`tool-hop runs ended ${plain.status} / ${tool.status}`);
    }
    if (index < WARM_UP_RUNS) continue;
    withoutTool.push(plain.finishedMs);
    withTool.push(tool.finishedMs);
  }
  const withSummary = roundSummary(summarise(withTool));
  const withoutSummary = roundSummary(summarise(withoutTool));
  return {
    status: 'measured',
    runs: withTool.length,
    withTool: withSummary,
    withoutTool: withoutSummary,
    extraP50: round(withSummary.p50 - withoutSummary.p50),
    extraP99: round(withSummary.p99 - withoutSummary.p99),
  };
}
