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
  /** Client-observed first text delta (from the POST) minus the provider's own time (request in → first token out). */
  added: LatencySummary;
  /** POST → the provider has the model request (API, queue, claim, history, request building). */
  beforeProvider: LatencySummary;
  /** The provider wrote its first token → the client has it (provider stream parsing, event bus, SSE). */
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
    const request = server.waitForRequests(server.requests.length + 1).then((all) => all[all.length - 1]);
    let firstDeltaAt = Number.NaN;
    const started = performance.now();
    const run = await timeStreamedRun(
      v1,
      `/threads/${threadId}/runs`,
      { assistant_id: assistantId },
      (at) => {
        firstDeltaAt = at;
      },
    );
    if (run.status !== 'completed' || run.firstDeltaMs === null) {
      throw new Error(
        `a first-token run ended ${run.status}${run.firstDeltaMs === null ? ' without text' : ''}`,
      );
    }
    const { receivedAt, firstTokenAt } = (await request) ?? { receivedAt: Number.NaN, firstTokenAt: null };
    if (firstTokenAt === null) throw new Error('the provider never sent its first token');
    if (index < WARM_UP_RUNS) continue;
    // The provider's own time (its scripted delay, and the timer's lateness) is not Threadwork's.
    const providerMs = firstTokenAt - receivedAt;
    added.push(firstDeltaAt - started - providerMs);
    before.push(receivedAt - started);
    after.push(firstDeltaAt - firstTokenAt);
  }
  return {
    runs: added.length,
    providerDelayMs: delayMs,
    added: roundSummary(summarise(added)),
    beforeProvider: roundSummary(summarise(before)),
    afterProvider: roundSummary(summarise(after)),
  };
}
