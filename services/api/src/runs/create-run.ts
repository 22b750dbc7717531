// Creating a run: resolve the effective settings, insert it queued (one active run per thread), announce, enqueue.
import {
  ApiError,
  type AssistantRow,
  type NewRunEvent,
  newId,
  notFound,
  type RunRow,
  type ThreadRow,
  toRunObject,
  toThreadObject,
} from '@threadwork/shared';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { newUserMessage } from '../messages.js';
import { findAssistant } from '../queries/assistants.js';
import { activeRunId } from '../queries/threads.js';
import { checkModel } from '../routes/assistants.js';
import { type CreateThreadInput, initialMessages, newThreadRow } from '../routes/threads.js';
import type { CreateMessageInput } from '../schemas/common.js';
import type { RunSettingsInput } from '../schemas/runs.js';
import { settledInOrder } from '../settled-in-order.js';
import { announceAndEnqueue } from './announce.js';
import { insertRun } from './insert-run.js';

export interface CreatedRun {
  run: RunRow;
  /** The seq of the run's first event, where a stream of this run starts. */
  firstSeq: number;
}

function activeRunError(threadId: string, runId: string): ApiError {
  return new ApiError(400, `Thread ${threadId} already has an active run ${runId}.`);
}

function isActiveRunConflict(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; constraint?: string } }).cause ?? error;
  const pgError = cause as { code?: string; constraint?: string };
  return pgError.code === '23505' && pgError.constraint === 'runs_one_active_per_thread_idx';
}

function effectiveInstructions(input: RunSettingsInput, assistant: AssistantRow): string {
  const base = input.instructions ?? assistant.instructions ?? '';
  const extra = input.additional_instructions;
  if (!extra) return base;
  return base.length > 0 ? `${base}\n\n${extra}` : extra;
}

export async function loadAssistantForRun(
  deps: AppDeps,
  principal: Principal,
  assistantId: string,
): Promise<AssistantRow> {
  const assistant = await findAssistant(deps.db, principal, assistantId);
  if (!assistant) {
    const error = notFound('assistant', assistantId);
    throw new ApiError(404, error.message, { param: 'assistant_id' });
  }
  return assistant;
}

/**
 * The assistant a run uses, checked before anything is written: visible to the caller (read here unless the caller
 * already loaded it), and a model that routes.
 */
async function resolveRunAssistant(
  deps: AppDeps,
  principal: Principal,
  input: Pick<RunSettingsInput, 'assistant_id' | 'model'>,
  loaded?: AssistantRow,
): Promise<AssistantRow> {
  const assistant = loaded ?? (await loadAssistantForRun(deps, principal, input.assistant_id));
  checkModel(deps, input.model ?? assistant.model);
  return assistant;
}

/** The run a request asks for, as it will be stored: the request's settings over the assistant's, then defaults. */
function newRunRow(
  deps: AppDeps,
  thread: Pick<ThreadRow, 'id' | 'ownerId'>,
  assistant: AssistantRow,
  input: RunSettingsInput,
  now: Date,
): RunRow {
  return {
    id: newId('run'),
    threadId: thread.id,
    ownerId: thread.ownerId,
    assistantId: assistant.id,
    status: 'queued',
    requiredAction: null,
    lastError: null,
    incompleteDetails: null,
    model: input.model ?? assistant.model,
    instructions: effectiveInstructions(input, assistant),
    tools: input.tools ?? assistant.tools,
    metadata: input.metadata ?? {},
    usage: null,
    temperature: input.temperature ?? assistant.temperature ?? 1,
    topP: input.top_p ?? assistant.topP ?? 1,
    maxPromptTokens: input.max_prompt_tokens ?? null,
    maxCompletionTokens: input.max_completion_tokens ?? null,
    truncationStrategy: {
      type: input.truncation_strategy?.type ?? 'auto',
      last_messages: input.truncation_strategy?.last_messages ?? null,
    },
    toolChoice: input.tool_choice ?? 'auto',
    parallelToolCalls: input.parallel_tool_calls ?? true,
    responseFormat: input.response_format ?? assistant.responseFormat ?? 'auto',
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.config.RUN_EXPIRY_SECONDS * 1000),
    startedAt: null,
    cancelledAt: null,
    failedAt: null,
    completedAt: null,
  };
}

function announcement(run: RunRow, thread?: ThreadRow): NewRunEvent[] {
  const data = toRunObject(run);
  return [
    ...(thread ? [{ event: 'thread.created', data: toThreadObject(thread) }] : []),
    { event: 'thread.run.created', data },
    { event: 'thread.run.queued', data },
  ];
}

/** Writes the run, then (persisted first, published after) announces and enqueues it. */
async function insertAndAnnounce(
  deps: AppDeps,
  run: RunRow,
  insert: () => Promise<void>,
  thread?: ThreadRow,
): Promise<CreatedRun> {
  await insert();
  const firstSeq = await announceAndEnqueue(deps, run, announcement(run, thread), {
    name: 'run.execute',
    data: { runId: run.id },
  });
  return { run, firstSeq };
}

/**
 * A run on an existing thread (or its lookup, still under way), in one statement: the thread's row is touched first
 * (its row lock keeps a message from slipping in), then its messages and the run go in; the partial unique index
 * refuses a second active run.
 */
export async function createRun(
  deps: AppDeps,
  principal: Principal,
  threadLookup: ThreadRow | Promise<ThreadRow>,
  input: RunSettingsInput,
  options: {
    additionalMessages?: CreateMessageInput[] | null;
    /** The assistant of `input.assistant_id`, when the caller has read it already: its model is still checked. */
    assistant?: AssistantRow;
  } = {},
): Promise<CreatedRun> {
  // The assistant is read while the thread is (a missing thread is still the error a caller sees first).
  const [thread, assistant] = await settledInOrder(
    Promise.resolve(threadLookup),
    resolveRunAssistant(deps, principal, input, options.assistant),
  );
  const now = new Date();
  const extra = (options.additionalMessages ?? []).map((message) => newUserMessage(thread.id, message, now));
  const run = newRunRow(deps, thread, assistant, input, now);
  return insertAndAnnounce(deps, run, () =>
    insertRun(deps.db, run, { touch: { id: thread.id, now } }, extra).catch(async (error: unknown) => {
      if (!isActiveRunConflict(error)) throw error;
      throw activeRunError(thread.id, (await activeRunId(deps.db, thread.id)) ?? 'unknown');
    }),
  );
}

/** Create-thread-and-run: the thread, its messages and the run in one statement (nobody else sees the thread yet). */
export async function createThreadAndRun(
  deps: AppDeps,
  principal: Principal,
  threadInput: CreateThreadInput,
  input: RunSettingsInput,
): Promise<CreatedRun> {
  const assistant = await resolveRunAssistant(deps, principal, input);
  const thread = newThreadRow(principal.keyId, threadInput, new Date());
  const initial = initialMessages(thread, threadInput);
  const run = newRunRow(deps, thread, assistant, input, thread.createdAt);
  return insertAndAnnounce(deps, run, () => insertRun(deps.db, run, { insert: thread }, initial), thread);
}
