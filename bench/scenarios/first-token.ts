// Scenario 5, time to first token added over the provider: the run worker's openai provider calls a local
// OpenAI-compatible server whose first token comes after a fixed delay; Threadwork's share is the rest.
import { type OpenAITestServer, textReply } from '../../services/run-worker/test/support/openai-server.js';
import { createAssistant, createThreads } from '../api-setup.js';
import type { ApiClient } from '../http-client.js';
import { type LatencySummary, roundSummary, summarise } from '../stats.js';
import { timeStreamedRun } from '../streamed-run.js';

export interface FirstTokenResult {
  runs: number;
  providerDelayMs: number;
  /** Client-observed first text delta (from the POST) minus the provider's fixed delay. */
  added: LatencySummary;
  /** POST → the provider receives the model request (API, queue, claim, history, request building). */
  beforeProvider: LatencySummary;
  /** The provider's first token is due → the client has it (provider stream parsing, event bus, SSE). */
  afterProvider: LatencySummary;
}

const WARM_UP_RUNS = 10;
export const FIRST_TOKEN_MODEL = 'openai/bench-fixed-latency';

export async function measureFirstToken(
  v1: ApiClient,
  server: OpenAITestServer,
  runs: number,
  delayMs: number,
  deadline: number,
): Promise<FirstTokenResult> {
  const assistantId = await createAssistant(v1, { model: FIRST_TOKEN_MODEL, name: 'bench first token' });
  const threads = await createThreads(v1, runs + WARM_UP_RUNS, 'Say hello.');
  const added: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  for (const [index, threadId] of threads.entries()) {
    if (performance.now() > deadline) break;
    server.script(
      textReply('Hello from a provider with a fixed first-token latency.', { firstTokenDelayMs: delayMs }),
    );
    const arrived = server.waitForRequests(server.requests.length + 1).then(() => performance.now());
    const started = performance.now();
    const run = await timeStreamedRun(v1, `/threads/${threadId}/runs`, { assistant_id: assistantId });
    if (run.status !== 'completed' || run.firstDeltaMs === null) {
      throw new Error(
        `a first-token run ended ${run.status}${run.firstDeltaMs === null ? ' without text' : ''}`,
      );
    }
    if (index < WARM_UP_RUNS) continue;
    const providerMs = (await arrived) - started;
    added.push(run.firstDeltaMs - delayMs);
    before.push(providerMs);
    after.push(run.firstDeltaMs - providerMs - delayMs);
  }
  return {
    runs: added.length,
    providerDelayMs: delayMs,
    added: roundSummary(summarise(added)),
    beforeProvider: roundSummary(summarise(before)),
    afterProvider: roundSummary(summarise(after)),
  };
}
