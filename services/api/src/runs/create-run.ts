// Creating a run: resolve the effective settings, insert it queued (one active run per thread), announce, enqueue.
import {
  ApiError,
  type AssistantRow,
  enqueueRun,
  newId,
  notFound,
  type NewRunEvent,
  type RunRow,
  schema,
  toRunObject,
  toThreadObject,
  transitionRun,
  type ThreadRow,
} from '@threadwork/shared';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { newUserMessage } from '../messages.js';
import { findAssistant } from '../queries/assistants.js';
import { activeRunId, insertMessages, touchThread } from '../queries/threads.js';
import { checkModel } from '../routes/assistants.js';
import type { CreateMessageInput } from '../schemas/common.js';
import type { RunSettingsInput } from '../schemas/runs.js';

export interface CreatedRun {
  run: RunRow;
  /** The seq of the run's first event, where a stream of this run starts. */
  firstSeq: number;
}

export function activeRunError(threadId: string, runId: string): ApiError {
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

export async function loadAssistantForRun(deps: AppDeps, principal: Principal, assistantId: string): Promise<AssistantRow> {
  const assistant = await findAssistant(deps.db, principal, assistantId);
  if (!assistant) {
    const error = notFound('assistant', assistantId);
    throw new ApiError(404, error.message, { param: 'assistant_id' });
  }
  return assistant;
}

export async function createRun(
  deps: AppDeps,
  principal: Principal,
  thread: ThreadRow,
  input: RunSettingsInput,
  options: { additionalMessages?: CreateMessageInput[] | null; announceThread?: boolean } = {},
): Promise<CreatedRun> {
  const assistant = await loadAssistantForRun(deps, principal, input.assistant_id);
  const model = input.model ?? assistant.model;
  checkModel(deps, model);
  const now = new Date();
  const run = await deps.db
    .transaction(async (tx) => {
      const active = await activeRunId(tx, thread.id);
      if (active) throw activeRunError(thread.id, active);
      const extra = (options.additionalMessages ?? []).map((message) => newUserMessage(thread.id, message, now));
      await insertMessages(tx, extra);
      await touchThread(tx, thread.id);
      const [row] = await tx
        .insert(schema.runs)
        .values({
          id: newId('run'),
          threadId: thread.id,
          ownerId: thread.ownerId,
          assistantId: assistant.id,
          status: 'queued',
          model,
          instructions: effectiveInstructions(input, assistant),
          tools: input.tools ?? assistant.tools,
          metadata: input.metadata ?? {},
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
        })
        .returning();
      if (!row) throw new Error('insert returned no row');
      return row;
    })
    .catch(async (error: unknown) => {
      if (!isActiveRunConflict(error)) throw error;
      throw activeRunError(thread.id, (await activeRunId(deps.db, thread.id)) ?? 'unknown');
    });
  const announced: NewRunEvent[] = [
    ...(options.announceThread ? [{ event: 'thread.created', data: toThreadObject(thread) }] : []),
    { event: 'thread.run.created', data: toRunObject(run) },
    { event: 'thread.run.queued', data: toRunObject(run) },
  ];
  const firstSeq = await announceAndEnqueue(deps, run, announced);
  return { run, firstSeq };
}

/** A committed run that cannot be announced or enqueued is failed, so it never sits queued; the client must not retry. */
async function announceAndEnqueue(deps: AppDeps, run: RunRow, announced: NewRunEvent[]): Promise<number> {
  try {
    const firstSeq = await deps.events.append(run.id, run.threadId, announced);
    await enqueueRun(deps.queues, { name: 'run.execute', data: { runId: run.id } });
    return firstSeq;
  } catch (error) {
    deps.log.error({ err: error, runId: run.id }, 'could not enqueue run');
    await transitionRun(deps.db, run.id, 'failed', {
      failedAt: new Date(),
      lastError: { code: 'server_error', message: 'The run could not be queued.' },
    });
    throw new ApiError(503, 'The run could not be queued; it was marked failed.', {
      type: 'server_error',
      code: 'server_error',
      headers: { 'x-should-retry': 'false' },
    });
  }
}
