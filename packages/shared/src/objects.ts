// Database rows to Assistants wire objects; every nullable key is present.
import type { InferSelectModel } from 'drizzle-orm';
import type { assistants, messages, runSteps, runs, threads } from './db/schema.js';
import { isFileSearchCall, toFileSearchToolCall } from './retrieval/file-search-calls.js';
import { assertNever } from './run-status.js';
import { CODE_INTERPRETER, codeInterpreterInput } from './tools.js';
import type {
  AssistantObject,
  CodeInterpreterToolCall,
  FileSearchToolCall,
  MessageContentPart,
  MessageObject,
  RunObject,
  RunStepObject,
  StepDetails,
  StepDetailsObject,
  StepToolCall,
  ThreadObject,
  Usage,
} from './wire.js';

export type AssistantRow = InferSelectModel<typeof assistants>;
export type ThreadRow = InferSelectModel<typeof threads>;
export type MessageRow = InferSelectModel<typeof messages>;
export type RunRow = InferSelectModel<typeof runs>;
export type RunStepRow = InferSelectModel<typeof runSteps>;

export function unixSeconds(date: Date): number;
export function unixSeconds(date: Date | null): number | null;
export function unixSeconds(date: Date | null): number | null {
  return date === null ? null : Math.floor(date.getTime() / 1000);
}

// jsonb stores object keys in its own order (shortest first); these put them back in the order OpenAI sends.

function usageInWireOrder(usage: Usage | null): Usage | null {
  if (usage === null) return null;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
  };
}

function inWireOrder(part: MessageContentPart): MessageContentPart {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: { value: part.text.value, annotations: part.text.annotations } };
    case 'image_file':
      return { type: 'image_file', image_file: part.image_file };
    case 'image_url':
      return { type: 'image_url', image_url: part.image_url };
    case 'refusal':
      return { type: 'refusal', refusal: part.refusal };
    default:
      return assertNever(part);
  }
}

/**
 * A stored call as clients see it: a file_search call with its results, a code_interpreter call with its input and
 * outputs, else a function call.
 */
function toolCallInWireOrder(
  call: StepToolCall,
  options: RunStepViewOptions,
): StepToolCall | FileSearchToolCall | CodeInterpreterToolCall {
  if (isFileSearchCall(call)) return toFileSearchToolCall(call, options.withFileSearchContent);
  if (call.function.name !== CODE_INTERPRETER) {
    const { name, arguments: args, output } = call.function;
    return { id: call.id, type: call.type, function: { name, arguments: args, output } };
  }
  const logs = call.function.output;
  const images = (call.images ?? []).map((fileId) => ({
    type: 'image' as const,
    image: { file_id: fileId },
  }));
  return {
    id: call.id,
    type: 'code_interpreter',
    code_interpreter: {
      input: codeInterpreterInput(call.function.arguments),
      outputs: logs === null ? [] : [{ type: 'logs', logs }, ...images],
    },
  };
}

function stepDetailsInWireOrder(details: StepDetails, options: RunStepViewOptions): StepDetailsObject {
  if (details.type === 'message_creation') return details;
  return {
    type: 'tool_calls',
    tool_calls: details.tool_calls.map((call) => toolCallInWireOrder(call, options)),
  };
}

export function toAssistantObject(row: AssistantRow): AssistantObject {
  return {
    id: row.id,
    object: 'assistant',
    created_at: unixSeconds(row.createdAt),
    name: row.name,
    description: row.description,
    model: row.model,
    instructions: row.instructions,
    tools: row.tools,
    tool_resources: row.toolResources,
    metadata: row.metadata,
    temperature: row.temperature ?? 1,
    top_p: row.topP ?? 1,
    response_format: row.responseFormat ?? 'auto',
    reasoning_effort: row.reasoningEffort,
  };
}

export function toThreadObject(row: ThreadRow): ThreadObject {
  return {
    id: row.id,
    object: 'thread',
    created_at: unixSeconds(row.createdAt),
    metadata: row.metadata,
    tool_resources: row.toolResources,
  };
}

export function toMessageObject(row: MessageRow): MessageObject {
  return {
    id: row.id,
    object: 'thread.message',
    created_at: unixSeconds(row.createdAt),
    thread_id: row.threadId,
    status: row.status,
    incomplete_details: row.incompleteDetails,
    completed_at: unixSeconds(row.completedAt),
    incomplete_at: unixSeconds(row.incompleteAt),
    role: row.role,
    content: row.content.map(inWireOrder),
    assistant_id: row.assistantId,
    run_id: row.runId,
    attachments: row.attachments,
    metadata: row.metadata,
  };
}

export function toRunObject(row: RunRow): RunObject {
  return {
    id: row.id,
    object: 'thread.run',
    created_at: unixSeconds(row.createdAt),
    thread_id: row.threadId,
    assistant_id: row.assistantId,
    status: row.status,
    required_action: row.status === 'requires_action' ? row.requiredAction : null,
    last_error: row.lastError,
    expires_at: unixSeconds(row.expiresAt),
    started_at: unixSeconds(row.startedAt),
    cancelled_at: unixSeconds(row.cancelledAt),
    failed_at: unixSeconds(row.failedAt),
    completed_at: unixSeconds(row.completedAt),
    incomplete_details: row.incompleteDetails,
    model: row.model,
    instructions: row.instructions,
    tools: row.tools,
    metadata: row.metadata,
    usage: usageInWireOrder(row.usage),
    temperature: row.temperature,
    top_p: row.topP,
    max_prompt_tokens: row.maxPromptTokens,
    max_completion_tokens: row.maxCompletionTokens,
    truncation_strategy: row.truncationStrategy,
    tool_choice: row.toolChoice,
    parallel_tool_calls: row.parallelToolCalls,
    response_format: row.responseFormat,
  };
}

/** What a request asked to see of a step: file_search results' content only with the include[] that names it. */
export interface RunStepViewOptions {
  withFileSearchContent: boolean;
}

/**
 * How steps are shown in run events: with the file_search results' content, which the Assistants stream leaves out
 * unless its request asked for it (`withoutFileSearchContent`).
 */
export const STEP_EVENT_VIEW: RunStepViewOptions = { withFileSearchContent: true };

export function toRunStepObject(
  row: RunStepRow,
  options: RunStepViewOptions = { withFileSearchContent: false },
): RunStepObject {
  return {
    id: row.id,
    object: 'thread.run.step',
    created_at: unixSeconds(row.createdAt),
    assistant_id: row.assistantId,
    thread_id: row.threadId,
    run_id: row.runId,
    type: row.type,
    status: row.status,
    step_details: stepDetailsInWireOrder(row.stepDetails, options),
    last_error: row.lastError,
    expired_at: unixSeconds(row.expiredAt),
    cancelled_at: unixSeconds(row.cancelledAt),
    failed_at: unixSeconds(row.failedAt),
    completed_at: unixSeconds(row.completedAt),
    metadata: {},
    // Usage is reported once a step has ended; a tool step stores its model call's usage from the start.
    usage: row.status === 'in_progress' ? null : usageInWireOrder(row.usage),
  };
}
