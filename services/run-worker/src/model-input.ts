// What the model sees: the thread's messages and this run's tool calls with their outputs, in creation order.
import type { MessageRow, RunRow, RunStepRow, ToolChoice } from '@threadwork/shared';
import { assertNever, FILE_SEARCH_TOOL, modelFunctions } from '@threadwork/shared';
import { contextTokensFor, fitPrompt } from './context-window.js';
import type { ModelMessage, ModelRequest } from './providers/types.js';

export function messageText(row: Pick<MessageRow, 'content'>): string {
  return row.content
    .map((part) => {
      switch (part.type) {
        case 'text':
          return part.text.value;
        case 'image_file':
          return `[image file ${part.image_file.file_id}]`;
        case 'image_url':
          return `[image ${part.image_url.url}]`;
        case 'refusal':
          return part.refusal;
        default:
          return assertNever(part);
      }
    })
    .join('\n');
}

function stepMessages(step: RunStepRow): ModelMessage[] {
  if (step.stepDetails.type !== 'tool_calls') return [];
  const calls = step.stepDetails.tool_calls;
  return [
    {
      role: 'assistant',
      toolCalls: calls.map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      })),
    },
    ...calls.map(
      (call): ModelMessage => ({
        role: 'tool',
        toolCallId: call.id,
        name: call.function.name,
        output: call.function.output ?? '',
      }),
    ),
  ];
}

/** The time-ordered part of an id (prefixes differ between messages and steps). */
function timeOf(id: string): string {
  return id.slice(id.indexOf('_') + 1);
}

/**
 * Messages and tool steps in conversation order: by id (ids are time-ordered), except that a run's answers and
 * steps come right after the messages it answered (`turnOf`: run id → the id its history ends at), so a run that
 * waited behind others is answered after its own message. Messages still being written are left out.
 */
export function toModelMessages(
  messages: MessageRow[],
  toolSteps: RunStepRow[],
  turnOf: ReadonlyMap<string, string> = new Map(),
): ModelMessage[] {
  const place = (id: string, runId: string | null) => {
    const turn = runId === null ? undefined : turnOf.get(runId);
    return { turn: timeOf(turn ?? id), at: timeOf(id) };
  };
  const items: Array<{ turn: string; at: string; messages: ModelMessage[] }> = [
    ...messages
      .filter((row) => row.status !== 'in_progress')
      .map((row) => ({
        ...place(row.id, row.runId),
        messages: [{ role: row.role, content: messageText(row) } as ModelMessage],
      })),
    ...toolSteps.map((step) => ({ ...place(step.id, step.runId), messages: stepMessages(step) })),
  ];
  items.sort((a, b) => compare(a.turn, b.turn) || compare(a.at, b.at));
  return items.flatMap((item) => item.messages);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function remainingCompletionTokens(run: RunRow): number | null {
  if (run.maxCompletionTokens === null) return null;
  return Math.max(0, run.maxCompletionTokens - (run.usage?.completion_tokens ?? 0));
}

/** A request's prompt tokens (instructions and messages, as `estimatePromptTokens` counts them). */
export interface Prompted {
  promptTokens: number;
}

/**
 * The request for one model call, with its prompt tokens as counted to cut it. History is cut by the run's
 * truncation strategy, then to the smaller of the model's context budget (`contextTokens`, MODEL_CONTEXT_TOKENS
 * over the defaults) and max_prompt_tokens.
 */
export function buildModelRequest(
  run: RunRow,
  history: ModelMessage[],
  model: string,
  contextOverrides: Readonly<Record<string, number>> = {},
): ModelRequest & Prompted {
  const { messages, promptTokens } = fitPrompt(history, {
    model: run.model,
    instructions: run.instructions,
    contextTokens: contextTokensFor(run.model, contextOverrides),
    maxPromptTokens: run.maxPromptTokens,
    truncation: run.truncationStrategy,
  });
  return {
    model,
    instructions: run.instructions,
    messages,
    tools: modelFunctions(run.tools),
    toolChoice: modelToolChoice(run.toolChoice, messages),
    parallelToolCalls: run.parallelToolCalls,
    temperature: run.temperature,
    topP: run.topP,
    maxOutputTokens: remainingCompletionTokens(run),
    responseFormat: run.responseFormat,
    promptTokens,
  };
}

/**
 * tool_choice as the model takes it. `{ type: 'file_search' }` forces the file_search function until the search has
 * answered (once its results are in, the model answers from them instead of searching again).
 */
export function modelToolChoice(choice: ToolChoice, messages: ModelMessage[]): ToolChoice {
  if (typeof choice === 'string' || choice.type !== FILE_SEARCH_TOOL) return choice;
  const lastUser = messages.findLastIndex((message) => message.role === 'user');
  const hasSearched = messages.slice(lastUser + 1).some((message) => message.role === 'tool');
  return hasSearched ? 'auto' : { type: 'function', function: { name: FILE_SEARCH_TOOL } };
}

/** Whether the prompt, already cut as far as it may be, is still over the run's max_prompt_tokens. */
export function exceedsPromptLimit(run: Pick<RunRow, 'maxPromptTokens'>, prompt: Prompted): boolean {
  return run.maxPromptTokens !== null && prompt.promptTokens > run.maxPromptTokens;
}
