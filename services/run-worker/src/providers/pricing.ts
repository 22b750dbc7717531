// Cost estimates: USD per million prompt and completion tokens, per model, overridable with MODEL_PRICES.
import { findModelEntry, type PriceTable } from '@threadwork/shared';

/**
 * OpenAI's, Anthropic's and Mistral's published standard-tier prices (USD per 1M tokens) at the time of writing, with
 * cache reads (`cachedInput`) and Anthropic's 5-minute cache writes (`cacheWrite`) where they differ from input.
 * Models of other servers (Ollama, vLLM, …) cost 0 unless MODEL_PRICES names them.
 */
export const DEFAULT_PRICES: PriceTable = {
  offline: { input: 0, output: 0 },
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
  'mistral/mistral-large-latest': { input: 2, output: 6 },
  'mistral/mistral-medium-latest': { input: 0.4, output: 2 },
  'mistral/mistral-small-latest': { input: 0.1, output: 0.3 },
  'mistral/codestral-latest': { input: 0.3, output: 0.9 },
};

/** The prompt tokens that came from, or went into, a prompt cache: part of a call's prompt tokens, priced apart. */
export interface CacheTokens {
  readTokens: number;
  writeTokens: number;
}

/** The defaults with configured prices laid over them (MODEL_PRICES wins per model). */
export function withPriceOverrides(overrides: PriceTable): PriceTable {
  return { ...DEFAULT_PRICES, ...overrides };
}

/** Estimated cost in USD; 0 for a model without a price. `cache` splits the prompt tokens by cache use. */
export function estimateCostUsd(
  modelName: string,
  promptTokens: number,
  completionTokens: number,
  prices: PriceTable = DEFAULT_PRICES,
  cache: CacheTokens = { readTokens: 0, writeTokens: 0 },
): number {
  const price = findModelEntry(prices, modelName);
  if (!price) return 0;
  const uncached = Math.max(0, promptTokens - cache.readTokens - cache.writeTokens);
  const input =
    uncached * price.input +
    cache.readTokens * (price.cachedInput ?? price.input) +
    cache.writeTokens * (price.cacheWrite ?? price.input);
  return (input + completionTokens * price.output) / 1_000_000;
}
