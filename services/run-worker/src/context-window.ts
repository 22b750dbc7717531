// Cutting history to what the model may see: the run's truncation strategy, then the model's prompt token budget.
import { findModelEntry } from '@threadwork/shared';
import { countMessageTokens, estimatePromptTokens, tokenCounterFor } from './providers/tokens.js';
import type { ModelMessage } from './providers/types.js';

/**
 * Prompt token budgets per model: the context window less room for the reply. Override or add models with
 * MODEL_CONTEXT_TOKENS; models of other servers need an entry there (their context is set on the server).
 */
const DEFAULT_CONTEXT_TOKENS: Readonly<Record<string, number>> = {
  offline: 128_000,
  'gpt-5': 272_000,
  'gpt-4.1': 1_000_000,
  'gpt-4o': 112_000,
  o3: 100_000,
  'o3-mini': 100_000,
  'o4-mini': 100_000,
  'gpt-4-turbo': 112_000,
  'gpt-3.5-turbo': 12_000,
  // Claude's 200k-token window, less room for the reply.
  claude: 180_000,
};

/** The budget for a model without an entry: small enough for a local model's default context. */
export const FALLBACK_CONTEXT_TOKENS = 8_000;

export interface FitOptions {
  model: string;
  instructions: string;
  /** The model's prompt budget; by default from contextTokensFor(model). */
  contextTokens?: number;
  /** The run's max_prompt_tokens, when it sets one. */
  maxPromptTokens: number | null;
  truncation: { type: 'auto' | 'last_messages'; last_messages: number | null };
}

export function contextTokensFor(model: string, overrides: Readonly<Record<string, number>> = {}): number {
  return (
    findModelEntry(overrides, model) ??
    findModelEntry(DEFAULT_CONTEXT_TOKENS, model) ??
    FALLBACK_CONTEXT_TOKENS
  );
}

/**
 * Units that are kept or dropped whole: a text message alone, or an assistant's tool calls with the tool outputs
 * that answer them. Tool outputs with no calls before them start a unit of their own.
 */
function toUnits(messages: ModelMessage[]): ModelMessage[][] {
  const units: ModelMessage[][] = [];
  for (const message of messages) {
    const current = units.at(-1);
    const first = current?.[0];
    const answersCalls =
      message.role === 'tool' && first !== undefined && (first.role === 'tool' || 'toolCalls' in first);
    if (current && answersCalls) current.push(message);
    else units.push([message]);
  }
  return units;
}

function isTextMessage(message: ModelMessage): boolean {
  return message.role === 'user' || (message.role === 'assistant' && 'content' in message);
}

/** The last `count` user and assistant messages, with the tool calls between them (tool steps are not messages). */
function lastMessages(units: ModelMessage[][], count: number): ModelMessage[][] {
  let seen = 0;
  for (let i = units.length - 1; i >= 0; i -= 1) {
    const unit = units[i];
    if (unit?.[0] && isTextMessage(unit[0])) seen += 1;
    if (seen === count) return units.slice(i);
  }
  return units;
}

function latestUserUnit(units: ModelMessage[][]): number {
  return units.findLastIndex((unit) => unit[0]?.role === 'user');
}

/**
 * The messages to send: `last_messages` applied first, then the oldest units dropped until the prompt fits the
 * budget (the smaller of the model's and the run's max_prompt_tokens). The latest user message and everything
 * after it are always kept, even when they alone exceed the budget.
 */
export function fitToContext(messages: ModelMessage[], options: FitOptions): ModelMessage[] {
  return fitPrompt(messages, options).messages;
}

/** The messages `fitToContext` keeps, with the prompt tokens they and the instructions come to. */
export interface FittedPrompt {
  messages: ModelMessage[];
  promptTokens: number;
}

/** `fitToContext`, also answering the prompt's token count it computed to cut (so the caller need not count again). */
export function fitPrompt(messages: ModelMessage[], options: FitOptions): FittedPrompt {
  const { truncation } = options;
  let units = toUnits(messages);
  const latestUser = latestUserUnit(units);
  if (truncation.type === 'last_messages' && truncation.last_messages !== null) {
    const kept = lastMessages(units, Math.max(truncation.last_messages, 1));
    const keptFrom = units.length - kept.length;
    units = latestUser >= 0 && latestUser < keptFrom ? units.slice(latestUser) : kept;
  }
  const budget = Math.min(
    options.contextTokens ?? contextTokensFor(options.model),
    options.maxPromptTokens ?? Infinity,
  );
  const count = tokenCounterFor(options.model);
  const unitTokens = units.map((unit) =>
    unit.reduce((sum, message) => sum + countMessageTokens(message, count), 0),
  );
  let total = unitTokens.reduce(
    (sum, tokens) => sum + tokens,
    estimatePromptTokens(options.instructions, [], count),
  );
  const protectedFrom = Math.max(latestUserUnit(units), 0);
  let dropped = 0;
  while (total > budget && dropped < protectedFrom) {
    total -= unitTokens[dropped] ?? 0;
    dropped += 1;
  }
  return { messages: units.slice(dropped).flat(), promptTokens: total };
}
