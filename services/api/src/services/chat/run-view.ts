// The chat view of a run, built from Postgres records: the waited answer, the polling view and the `done` event.
import {
  type Db,
  findRun,
  isTerminal,
  type LastError,
  type MessageRow,
  type ProductCard,
  productCardsOf,
  type RunRow,
  type RunStatus,
  type StepToolCall,
  type Usage,
} from '@threadwork/shared';

import { loadRunRecords, type RunRecords } from '../../repositories/runs.js';

export interface ChatToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: a JSON string. */
  arguments: string;
  output: string | null;
}

export interface ChatRunView {
  thread_id: string;
  run_id: string;
  status: RunStatus;
  /** The run's assistant messages, separated by a blank line; null until one is written. */
  response: string | null;
  /** The last assistant message of the run: the one to give feedback on. */
  message_id: string | null;
  products: ProductCard[];
  tool_calls: ChatToolCall[];
  /** The run's total tokens (all its model calls), a number for clients that decode it as one; null before any. */
  tokens_used: number | null;
  /** The breakdown of `tokens_used`. */
  usage: Usage | null;
  model_used: string;
  cost_estimate: number | null;
  response_time_ms: number | null;
  error: LastError | null;
}

/** Where a run whose work is not done yet can be followed. */
export interface RunLinks {
  thread_id: string;
  run_id: string;
  status: RunStatus;
  poll_url: string;
  stream_url: string;
}

export function messageText(message: Pick<MessageRow, 'content'>): string {
  return message.content.map((part) => (part.type === 'text' ? part.text.value : '')).join('');
}

function endedAt(run: RunRow): Date | null {
  return run.completedAt ?? run.failedAt ?? run.cancelledAt ?? null;
}

function responseTimeMs(run: RunRow): number | null {
  const end = isTerminal(run.status) ? endedAt(run) : null;
  return end ? end.getTime() - run.createdAt.getTime() : null;
}

function toolCallsOf(records: RunRecords): StepToolCall[] {
  return records.toolSteps.flatMap((step) =>
    step.stepDetails.type === 'tool_calls' ? step.stepDetails.tool_calls : [],
  );
}

export function toChatView(records: RunRecords): ChatRunView {
  const { run } = records;
  const written = records.messages.filter((message) => message.status !== 'in_progress');
  const texts = written.map(messageText).filter((text) => text.length > 0);
  const calls = toolCallsOf(records);
  return {
    thread_id: run.threadId,
    run_id: run.id,
    status: run.status,
    response: texts.length > 0 ? texts.join('\n\n') : null,
    message_id: written.at(-1)?.id ?? null,
    products: productCardsOf(calls),
    tool_calls: calls.map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      output: call.function.output,
    })),
    tokens_used: run.usage?.total_tokens ?? null,
    usage: run.usage,
    model_used: records.modelUsed ?? run.model,
    cost_estimate: records.costUsd,
    response_time_ms: responseTimeMs(run),
    error: run.lastError,
  };
}

export function runLinks(run: Pick<RunRow, 'id' | 'threadId' | 'status'>): RunLinks {
  return {
    thread_id: run.threadId,
    run_id: run.id,
    status: run.status,
    poll_url: `/api/runs/${run.id}`,
    stream_url: `/api/runs/${run.id}/events`,
  };
}

/**
 * The chat view of a run; null when the run is gone (its thread was deleted). Workers publish a run's events after
 * committing them, so a reader woken by an event finds at least what the event says.
 */
export async function loadChatView(db: Db, runId: string): Promise<ChatRunView | null> {
  const run = await findRun(db, runId);
  return run ? chatViewOf(db, run) : null;
}

/** The chat view of a run the caller has just read (its row is not read again). */
export async function chatViewOf(db: Db, run: RunRow): Promise<ChatRunView> {
  return toChatView(await loadRunRecords(db, run));
}
