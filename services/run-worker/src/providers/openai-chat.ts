// The Chat Completions dialect: a ModelRequest as `POST /chat/completions` parameters, its chunks as ModelEvents.
import { newId } from '@threadwork/shared';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { ResponseFormatJSONObject, ResponseFormatJSONSchema } from 'openai/resources/shared';
import { streamEndedEarly } from './failures.js';
import { estimateUsage } from './tokens.js';
import type { FinishReason, ModelEvent, ModelMessage, ModelRequest, ModelToolCall } from './types.js';

/** OpenAI's own API wants `max_completion_tokens`; most compatible servers (Ollama, LM Studio) know `max_tokens`. */
export type MaxTokensField = 'max_completion_tokens' | 'max_tokens';

function toChatMessage(message: ModelMessage): ChatCompletionMessageParam {
  if (message.role === 'tool')
    return { role: 'tool', tool_call_id: message.toolCallId, content: message.output };
  if ('toolCalls' in message) {
    return {
      role: 'assistant',
      content: null,
      tool_calls: message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    };
  }
  return { role: message.role, content: message.content };
}

function toTools(request: ModelRequest): ChatCompletionFunctionTool[] {
  return request.tools.map((fn) => ({
    type: 'function',
    function: {
      name: fn.name,
      ...(fn.description !== undefined ? { description: fn.description } : {}),
      ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
      ...(fn.strict !== undefined && fn.strict !== null ? { strict: fn.strict } : {}),
    },
  }));
}

function toToolChoice(choice: ModelRequest['toolChoice']): ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', function: { name: choice.function.name } };
  // code_interpreter is offered to the model as a function of that name.
  if (choice.type === 'code_interpreter') return { type: 'function', function: { name: choice.type } };
  return 'auto';
}

function toResponseFormat(
  format: ModelRequest['responseFormat'],
): ResponseFormatJSONObject | ResponseFormatJSONSchema | undefined {
  if (format === 'auto' || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: format.json_schema };
}

export function toChatParams(
  request: ModelRequest,
  maxTokensField: MaxTokensField = 'max_completion_tokens',
): ChatCompletionCreateParamsStreaming {
  const system: ChatCompletionMessageParam[] =
    request.instructions.length > 0 ? [{ role: 'system', content: request.instructions }] : [];
  const responseFormat = toResponseFormat(request.responseFormat);
  return {
    model: request.model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [...system, ...request.messages.map(toChatMessage)],
    ...(request.tools.length > 0
      ? {
          tools: toTools(request),
          tool_choice: toToolChoice(request.toolChoice),
          parallel_tool_calls: request.parallelToolCalls,
        }
      : {}),
    ...(request.temperature !== null ? { temperature: request.temperature } : {}),
    ...(request.topP !== null ? { top_p: request.topP } : {}),
    ...(request.maxOutputTokens !== null ? { [maxTokensField]: request.maxOutputTokens } : {}),
    ...(responseFormat ? { response_format: responseFormat } : {}),
  };
}

function toFinishReason(reason: string, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      // Some compatible servers (Ollama) answer tool calls with finish_reason "stop".
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

type ChunkToolCall = NonNullable<ChatCompletionChunk.Choice['delta']['tool_calls']>[number];

/** Adds a chunk's piece of a call to the call; answers the events it makes (the call's start on its first piece). */
function mergeToolCallDelta(calls: ModelToolCall[], part: ChunkToolCall): ModelEvent[] {
  const known = calls[part.index];
  const call = known ?? { id: part.id || newId('call'), name: '', arguments: '' };
  calls[part.index] = call;
  if (part.function?.name) call.name += part.function.name;
  const events: ModelEvent[] = known
    ? []
    : [{ type: 'tool_call_started', index: part.index, id: call.id, name: call.name }];
  const delta = part.function?.arguments ?? '';
  call.arguments += delta;
  if (delta.length > 0) events.push({ type: 'tool_call_arguments', index: part.index, delta });
  return events;
}

/**
 * Translates the chunks. Tool calls stream as their deltas come and are yielded whole once the stream has ended cleanly;
 * a stream that ends without a finish_reason was cut and throws.
 */
export async function* fromChatChunks(
  chunks: AsyncIterable<ChatCompletionChunk>,
  request: ModelRequest,
): AsyncGenerator<ModelEvent> {
  const calls: ModelToolCall[] = [];
  let output = '';
  let finishReason: string | null = null;
  let usage: ChatCompletionChunk['usage'] = null;
  for await (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    const text = (choice.delta?.content ?? '') + (choice.delta?.refusal ?? '');
    if (text.length > 0) {
      output += text;
      yield { type: 'text', delta: text };
    }
    for (const part of choice.delta?.tool_calls ?? []) yield* mergeToolCallDelta(calls, part);
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  if (finishReason === null) throw streamEndedEarly();
  const complete = calls.filter((call) => call !== undefined);
  for (const call of complete) {
    output += call.arguments;
    yield { type: 'tool_call', call };
  }
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  yield usage
    ? {
        type: 'usage',
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
        // OpenAI's automatic prompt caching: the cached part of the prompt is billed at the cached-input price.
        ...(cached > 0 ? { cacheReadTokens: cached } : {}),
      }
    : { type: 'usage', ...estimateUsage(request, output) };
  yield { type: 'finish', reason: toFinishReason(finishReason, complete.length > 0) };
}
