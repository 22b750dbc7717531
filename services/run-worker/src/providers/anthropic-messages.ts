// Anthropic's Messages dialect: a ModelRequest as `POST /v1/messages` parameters, its stream events as ModelEvents.
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  TextBlockParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import { streamEndedEarly } from './failures.js';
import type { FinishReason, ModelEvent, ModelMessage, ModelRequest, ModelToolCall } from './types.js';

/** The Messages API requires an output limit; this one applies when the run sets none. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

const emptyInputSchema: Tool.InputSchema = { type: 'object', properties: {} };

/** Marks the end of the stable prefix (tools, then system): everything up to it is cached for the next call. */
const cacheBreakpoint = { cache_control: { type: 'ephemeral' as const } };

/** Tool-call arguments are JSON text in Threadwork and an object for Anthropic; text that is not an object is `{}`. */
function toToolInput(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function toBlocks(message: ModelMessage): { role: 'user' | 'assistant'; blocks: ContentBlockParam[] } {
  if (message.role === 'tool') {
    const block: ContentBlockParam = {
      type: 'tool_result',
      tool_use_id: message.toolCallId,
      content: message.output,
    };
    return { role: 'user', blocks: [block] };
  }
  if ('toolCalls' in message) {
    const blocks = message.toolCalls.map(
      (call): ContentBlockParam => ({
        type: 'tool_use',
        id: call.id,
        name: call.name,
        input: toToolInput(call.arguments),
      }),
    );
    return { role: 'assistant', blocks };
  }
  return { role: message.role, blocks: [{ type: 'text', text: message.content }] };
}

/**
 * Messages alternate user and assistant: consecutive messages of one role become one message. Tool results are user
 * content, so the outputs of a parallel call land together, right after the assistant's tool_use blocks.
 */
export function toAnthropicMessages(messages: ModelMessage[]): MessageParam[] {
  const merged: { role: 'user' | 'assistant'; blocks: ContentBlockParam[] }[] = [];
  for (const message of messages) {
    const { role, blocks } = toBlocks(message);
    const last = merged.at(-1);
    if (last?.role === role) last.blocks.push(...blocks);
    else merged.push({ role, blocks });
  }
  return merged.map(({ role, blocks }) => ({ role, content: blocks }));
}

function toTools(request: ModelRequest, isCaching: boolean): Tool[] {
  return request.tools.map((fn, index) => ({
    name: fn.name,
    ...(fn.description !== undefined ? { description: fn.description } : {}),
    input_schema: (fn.parameters as Tool.InputSchema | undefined) ?? emptyInputSchema,
    ...(isCaching && index === request.tools.length - 1 ? cacheBreakpoint : {}),
  }));
}

function toToolChoice(request: ModelRequest): ToolChoice {
  const disable_parallel_tool_use = !request.parallelToolCalls;
  const choice = request.toolChoice;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', disable_parallel_tool_use };
  if (typeof choice === 'object' && choice.type === 'function') {
    return { type: 'tool', name: choice.function.name, disable_parallel_tool_use };
  }
  // code_interpreter is offered to the model as a function of that name.
  if (typeof choice === 'object' && choice.type === 'code_interpreter') {
    return { type: 'tool', name: choice.type, disable_parallel_tool_use };
  }
  return { type: 'auto', disable_parallel_tool_use };
}

function toSystem(request: ModelRequest, isCaching: boolean): TextBlockParam[] {
  if (request.instructions.length === 0) return [];
  return [{ type: 'text', text: request.instructions, ...(isCaching ? cacheBreakpoint : {}) }];
}

/**
 * The request. With prompt caching (the default), `cache_control` marks the tools and the instructions, the part of
 * the prompt that stays the same from call to call, as the prefix to cache.
 */
export function toMessagesParams(request: ModelRequest, isCaching = true): MessageCreateParamsStreaming {
  const system = toSystem(request, isCaching);
  return {
    model: request.model,
    stream: true,
    max_tokens: request.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    messages: toAnthropicMessages(request.messages),
    ...(system.length > 0 ? { system } : {}),
    ...(request.tools.length > 0
      ? { tools: toTools(request, isCaching), tool_choice: toToolChoice(request) }
      : {}),
    ...(request.temperature !== null ? { temperature: request.temperature } : {}),
    ...(request.topP !== null ? { top_p: request.topP } : {}),
  };
}

export function toFinishReason(reason: StopReason | null, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    case 'tool_use':
      return 'tool_calls';
    default:
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

interface StreamUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

type UsageFields = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
};

/** message_start carries the prompt's usage; message_delta carries cumulative counts, which win where present. */
function mergeUsage(usage: StreamUsage, fields: UsageFields): void {
  usage.inputTokens = fields.input_tokens ?? usage.inputTokens;
  usage.outputTokens = fields.output_tokens ?? usage.outputTokens;
  usage.cacheReadTokens = fields.cache_read_input_tokens ?? usage.cacheReadTokens;
  usage.cacheWriteTokens = fields.cache_creation_input_tokens ?? usage.cacheWriteTokens;
}

/**
 * Translates the events. A tool call is yielded when its block stops, with its arguments assembled from the
 * `input_json_delta`s; a stream that ends without `message_stop` was cut and throws.
 */
export async function* fromMessageEvents(
  events: AsyncIterable<RawMessageStreamEvent>,
): AsyncGenerator<ModelEvent> {
  const pending = new Map<number, ModelToolCall>();
  const usage: StreamUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  let stopReason: StopReason | null = null;
  let hasToolCalls = false;
  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        mergeUsage(usage, event.message.usage);
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          pending.set(event.index, { id: block.id, name: block.name, arguments: '' });
          yield { type: 'tool_call_started', index: event.index, id: block.id, name: block.name };
        }
        if (block.type === 'text' && block.text.length > 0) yield { type: 'text', delta: block.text };
        break;
      }
      case 'content_block_delta': {
        const { delta } = event;
        if (delta.type === 'text_delta' && delta.text.length > 0) yield { type: 'text', delta: delta.text };
        const call = pending.get(event.index);
        if (delta.type !== 'input_json_delta' || !call || delta.partial_json.length === 0) break;
        call.arguments += delta.partial_json;
        yield { type: 'tool_call_arguments', index: event.index, delta: delta.partial_json };
        break;
      }
      case 'content_block_stop': {
        const call = pending.get(event.index);
        if (!call) break;
        pending.delete(event.index);
        hasToolCalls = true;
        yield { type: 'tool_call', call: { ...call, arguments: call.arguments || '{}' } };
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason ?? stopReason;
        mergeUsage(usage, event.usage);
        break;
      case 'message_stop': {
        const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = usage;
        yield {
          type: 'usage',
          // Anthropic's input_tokens leaves out the cached part of the prompt; Threadwork's prompt tokens include it.
          promptTokens: inputTokens + cacheReadTokens + cacheWriteTokens,
          completionTokens: outputTokens,
          cacheReadTokens,
          cacheWriteTokens,
        };
        yield { type: 'finish', reason: toFinishReason(stopReason, hasToolCalls) };
        return;
      }
    }
  }
  throw streamEndedEarly();
}
