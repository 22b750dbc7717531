// POST /api/chat: start a turn, then answer at once (202 with where to follow it) or wait for the run to stop.
import { findRun, hasStopped, notFound } from '@threadwork/shared';
import type { Principal } from '../../auth.js';
import type { AppDeps } from '../../deps.js';
import type { ChatInput } from '../../schemas/chat.js';
import { waitForRunStop } from './await-run.js';
import { type ChatRunView, loadChatView, type RunLinks, runLinks } from './run-view.js';
import { startChat } from './start-chat.js';

export type ChatAnswer = { status: 200; body: ChatRunView } | { status: 202; body: RunLinks } | null;

/** Answers null when the client went away while waiting (the run goes on). */
export async function answerChat(
  deps: AppDeps,
  principal: Principal,
  input: ChatInput,
  signal: AbortSignal,
): Promise<ChatAnswer> {
  const { run, firstSeq } = await startChat(deps, principal, input);
  if (!input.wait) return { status: 202, body: runLinks(run) };
  const outcome = await waitForRunStop(deps.feed, run, firstSeq - 1, {
    timeoutMs: deps.config.CHAT_WAIT_TIMEOUT_MS,
    signal,
    hasStopped: async () => hasStopped((await findRun(deps.db, run.id))?.status ?? 'queued'),
  });
  if (outcome === 'aborted') return null;
  const view = await loadChatView(deps.db, run.id);
  if (!view) throw notFound('run', run.id);
  if (outcome === 'timeout' && !hasStopped(view.status)) {
    return { status: 202, body: runLinks({ ...run, status: view.status }) };
  }
  return { status: 200, body: view };
}
