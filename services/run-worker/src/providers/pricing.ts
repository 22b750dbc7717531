// Cost estimates: USD per million prompt and completion tokens, per model, overridable with MODEL_PRICES.
import { findModelEntry, type PriceTable } from '@threadwork/shared';

/**
 * OpenAI's published standard-tier prices (USD per 1M tokens) at the time of writing; cached-input discounts are
 * not modelled. Models of other servers (Ollama, vLLM, …) cost 0 unless MODEL_PRICES names them.
 */
export const DEFAULT_PRICES: PriceTable = {
  offline: { input: 0, output: 0 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
};

/** The defaults with configured prices laid over them (MODEL_PRICES wins per model). */
export function withPriceOverrides(overrides: PriceTable): PriceTable {
  return { ...DEFAULT_PRICES, ...overrides };
}

/** Estimated cost in USD; 0 for a model without a price. */
export function estimateCostUsd(
  modelName: string,
  promptTokens: number,
  completionTokens: number,
  prices: PriceTable = DEFAULT_PRICES,
): number {
  const price = findModelEntry(prices, modelName);
  if (!price) return 0;
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
