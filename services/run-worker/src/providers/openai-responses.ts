// The Responses API dialect: a ModelRequest as `POST /responses` parameters, and its stream events as ModelEvents.
import type {
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseFormatTextConfig,
  ResponseInputItem,
  ResponseStreamEvent,
  ToolChoiceFunction,
  ToolChoiceOptions,
} from 'openai/resources/responses/responses';
import { streamEndedEarly, streamFailure } from './failures.js';
import { estimateUsage } from './tokens.js';
import type { FinishReason, ModelEvent, ModelMessage, ModelRequest, ModelToolCall } from './types.js';

const emptyParameters = { type: 'object', properties: {} };

function toInputItems(message: ModelMessage): ResponseInputItem[] {
  if (message.role === 'tool') {
    return [{ type: 'function_call_output', call_id: message.toolCallId, output: message.output }];
  }
  if ('toolCalls' in message) {
    return message.toolCalls.map((call) => ({
      type: 'function_call',
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    }));
  }
  return [{ role: message.role, content: message.content }];
}

function toTools(request: ModelRequest): FunctionTool[] {
  return request.tools.map((fn) => ({
    type: 'function',
    name: fn.name,
    description: fn.description ?? null,
    parameters: fn.parameters ?? emptyParameters,
    // The Responses API makes functions strict unless told otherwise; Assistants-style tools are not, by default.
    strict: fn.strict ?? false,
  }));
}

function toToolChoice(choice: ModelRequest['toolChoice']): ToolChoiceOptions | ToolChoiceFunction {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', name: choice.function.name };
  // code_interpreter is offered to the model as a function of that name.
  if (choice.type === 'code_interpreter') return { type: 'function', name: choice.type };
  return 'auto';
}

function toTextFormat(format: ModelRequest['responseFormat']): ResponseFormatTextConfig | undefined {
  if (format === 'auto' || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, description, schema, strict } = format.json_schema;
  return {
    type: 'json_schema',
    name,
    description,
    schema: schema ?? emptyParameters,
    strict: strict ?? null,
  };
}

export function toResponsesParams(request: ModelRequest): ResponseCreateParamsStreaming {
  const hasTools = request.tools.length > 0;
  const format = toTextFormat(request.responseFormat);
  return {
    model: request.model,
    stream: true,
    // Threadwork keeps the conversation itself and sends it whole each time.
    store: false,
    ...(request.instructions.length > 0 ? { instructions: request.instructions } : {}),
    input: request.messages.flatMap(toInputItems),
    ...(hasTools
      ? {
          tools: toTools(request),
          tool_choice: toToolChoice(request.toolChoice),
          parallel_tool_calls: request.parallelToolCalls,
        }
      : {}),
    ...(request.temperature !== null ? { temperature: request.temperature } : {}),
    ...(request.topP !== null ? { top_p: request.topP } : {}),
    ...(request.maxOutputTokens !== null ? { max_output_tokens: request.maxOutputTokens } : {}),
    ...(format ? { text: { format } } : {}),
  };
}

function incompleteReason(reason: string | undefined): FinishReason {
  return reason === 'content_filter' ? 'content_filter' : 'length';
}

/** Translates the event stream; throws when it ends without `response.completed` or `response.incomplete`. */
export async function* fromResponsesEvents(
  events: AsyncIterable<ResponseStreamEvent>,
  request: ModelRequest,
): AsyncGenerator<ModelEvent> {
  const pending = new Map<number, ModelToolCall>();
  let output = '';
  let hasToolCalls = false;
  for await (const event of events) {
    switch (event.type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        output += event.delta;
        if (event.delta.length > 0) yield { type: 'text', delta: event.delta };
        break;
      case 'response.output_item.added':
        if (event.item.type === 'function_call') {
          const { call_id, name, arguments: args } = event.item;
          pending.set(event.output_index, { id: call_id, name, arguments: args ?? '' });
          yield { type: 'tool_call_started', index: event.output_index, id: call_id, name };
          if (args) yield { type: 'tool_call_arguments', index: event.output_index, delta: args };
        }
        break;
      case 'response.function_call_arguments.delta': {
        const call = pending.get(event.output_index);
        if (!call || event.delta.length === 0) break;
        call.arguments += event.delta;
        yield { type: 'tool_call_arguments', index: event.output_index, delta: event.delta };
        break;
      }
      case 'response.output_item.done':
        if (event.item.type === 'function_call') {
          const call = pending.get(event.output_index);
          const args = event.item.arguments || call?.arguments || '';
          pending.delete(event.output_index);
          hasToolCalls = true;
          output += args;
          yield {
            type: 'tool_call',
            call: { id: event.item.call_id, name: event.item.name, arguments: args },
          };
        }
        break;
      case 'response.completed':
      case 'response.incomplete': {
        const usage = event.response.usage;
        const cached = usage?.input_tokens_details?.cached_tokens ?? 0;
        yield usage
          ? {
              type: 'usage',
              promptTokens: usage.input_tokens,
              completionTokens: usage.output_tokens,
              // OpenAI's automatic prompt caching: the cached part is billed at the cached-input price.
              ...(cached > 0 ? { cacheReadTokens: cached } : {}),
            }
          : { type: 'usage', ...estimateUsage(request, output) };
        const reason =
          event.type === 'response.incomplete'
            ? incompleteReason(event.response.incomplete_details?.reason)
            : hasToolCalls
              ? 'tool_calls'
              : 'stop';
        yield { type: 'finish', reason };
        return;
      }
      case 'response.failed': {
        const error = event.response.error;
        throw streamFailure(error?.code, error?.message ?? 'The model provider reported a failed response.');
      }
    }
  }
  throw streamEndedEarly();
}
