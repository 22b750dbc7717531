// Token counting: OpenAI's own BPE encodings for OpenAI model families, a documented character rule for the rest.
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import type { ModelMessage, ModelRequest } from './types.js';

type TokenCounter = (text: string) => number;

/** Special-token markers in user text are counted as the plain text they are. */
const asPlainText = { disallowedSpecial: new Set<string>() };

/** Tokens the chat format adds per message (role and separators), as in OpenAI's counting guide. */
const MESSAGE_OVERHEAD = 4;
/** Tokens that prime the model's reply. */
const REPLY_PRIMING = 3;

/** The offline model's rule: one token per 4 characters, rounded up. */
const countOfflineTokens: TokenCounter = (text) => Math.ceil(text.length / 4);

/** Models without a tokenizer on npm: one token per 3 characters, rounded up (pessimistic, so history is cut early). */
export const approximateTokens: TokenCounter = (text) => Math.ceil(text.length / 3);

const o200k: TokenCounter = (text) => countO200k(text, asPlainText);
const cl100k: TokenCounter = (text) => countCl100k(text, asPlainText);

/** The counter for a model name; the tokenizer is a property of the model, whichever server runs it. */
export function tokenCounterFor(modelName: string): TokenCounter {
  if (modelName === 'offline') return countOfflineTokens;
  const model = modelName.slice(modelName.lastIndexOf('/') + 1).toLowerCase();
  if (/^(gpt-4o|gpt-4\.[1-9]|gpt-4\.5|gpt-5|gpt-oss|chatgpt-|o[1-9]([-.]|$))/.test(model)) return o200k;
  if (/^(gpt-4|gpt-3\.5)/.test(model)) return cl100k;
  return approximateTokens;
}

export function countMessageTokens(message: ModelMessage, count: TokenCounter): number {
  if (message.role === 'tool') return MESSAGE_OVERHEAD + count(message.output);
  if ('toolCalls' in message) {
    return (
      MESSAGE_OVERHEAD + message.toolCalls.reduce((sum, call) => sum + count(call.name + call.arguments), 0)
    );
  }
  return MESSAGE_OVERHEAD + count(message.content);
}

/** Prompt tokens of instructions plus messages, as the model would count them (tool schemas not included). */
export function estimatePromptTokens(
  instructions: string,
  messages: ModelMessage[],
  count: TokenCounter,
): number {
  const history = messages.reduce((sum, message) => sum + countMessageTokens(message, count), 0);
  const system = instructions.length > 0 ? MESSAGE_OVERHEAD + count(instructions) : 0;
  return system + history + REPLY_PRIMING;
}

/** Usage for a server that reported none: the request's prompt and the streamed output, counted locally. */
export function estimateUsage(
  request: ModelRequest,
  output: string,
): { promptTokens: number; completionTokens: number } {
  const count = tokenCounterFor(request.model);
  return {
    promptTokens: estimatePromptTokens(request.instructions, request.messages, count),
    completionTokens: count(output),
  };
}
