// Model routing rules shared by the API (refuse unknown models at creation) and the run worker (pick a provider).
import { z } from 'zod';
import type { Config } from './config.js';

const OFFLINE_MODEL = 'offline';
const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

const openAIApiModes = ['responses', 'chat'] as const;
export type OpenAIApiMode = (typeof openAIApiModes)[number];

export type ModelRoute =
  | { provider: 'offline'; model: typeof OFFLINE_MODEL }
  | {
      provider: 'openai';
      /** The model name the provider receives. */
      model: string;
      /** The configured server that serves it: `openai`, or a name from MODEL_PROVIDERS. */
      endpoint: string;
      baseURL: string;
      apiMode: OpenAIApiMode;
    }
  | {
      provider: 'anthropic';
      /** The model name Anthropic's Messages API receives. */
      model: string;
      baseURL: string;
    };

const reservedEndpoints = ['openai', 'anthropic', OFFLINE_MODEL];

const endpointName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and - only')
  .refine((name) => !reservedEndpoints.includes(name), 'openai, anthropic and offline are reserved names');

const compatibleServer = z.object({
  baseURL: z.url(),
  apiKey: z.string().min(1).optional(),
  apiMode: z.enum(openAIApiModes).default('chat'),
});

/**
 * One price per model, in USD per million tokens. `cachedInput` (a prompt-cache read) and `cacheWrite` (a prompt-cache
 * write) default to `input` where a provider does not price them differently.
 */
const modelPrice = z.object({
  input: z.number().min(0),
  output: z.number().min(0),
  cachedInput: z.number().min(0).optional(),
  cacheWrite: z.number().min(0).optional(),
});
export type ModelPrice = z.infer<typeof modelPrice>;
export type PriceTable = Record<string, ModelPrice>;

function parseJson(value: string, ctx: z.RefinementCtx): unknown {
  try {
    return JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
    return z.NEVER;
  }
}

/** `name=url,name=url` pairs: each server speaks Chat Completions and needs no key. */
function parseServerPairs(value: string): Record<string, { baseURL: string }> {
  const servers: Record<string, { baseURL: string }> = {};
  for (const pair of value.split(',')) {
    const [name = '', ...url] = pair.split('=');
    if (name.trim().length > 0) servers[name.trim()] = { baseURL: url.join('=').trim() };
  }
  return servers;
}

/** MODEL_PROVIDERS: a JSON object `{ name: { baseURL, apiKey?, apiMode? } }` or `name=url` pairs. */
export const modelProvidersFromEnv = z
  .string()
  .transform((value, ctx) => (value.trim().startsWith('{') ? parseJson(value, ctx) : parseServerPairs(value)))
  .pipe(z.record(endpointName, compatibleServer));

/** MODEL_PRICES: a JSON object `{ model: { input, output } }` in USD per million tokens. */
export const priceTableFromEnv = z
  .string()
  .transform(parseJson)
  .pipe(z.record(z.string().min(1), modelPrice));

/** MODEL_CONTEXT_TOKENS: a JSON object `{ model: promptTokenBudget }`. */
export const contextTokensFromEnv = z
  .string()
  .transform(parseJson)
  .pipe(z.record(z.string().min(1), z.number().int().positive()));

/** MODEL_FALLBACKS: `model=next|next2` rules, comma separated: the models tried, in order, when a model fails. */
export const modelFallbacksFromEnv = z.string().transform((value, ctx) => {
  const rules: Record<string, string[]> = {};
  for (const rule of value.split(',')) {
    if (rule.trim().length === 0) continue;
    const [from = '', chain = '', ...rest] = rule.split('=').map((part) => part.trim());
    const next = chain.split('|').map((model) => model.trim());
    if (from.length === 0 || rest.length > 0 || next.some((model) => model.length === 0)) {
      ctx.addIssue({ code: 'custom', message: `'${rule.trim()}' is not model=fallback|fallback` });
      return z.NEVER;
    }
    rules[from] = next;
  }
  return rules;
});

type RoutingConfig = Pick<
  Config,
  | 'OPENAI_API_KEY'
  | 'OPENAI_BASE_URL'
  | 'OPENAI_API_MODE'
  | 'MODEL_PROVIDERS'
  | 'ANTHROPIC_API_KEY'
  | 'ANTHROPIC_BASE_URL'
>;

/** Whether a base URL is OpenAI's own API, trailing slashes aside. */
export function isOpenAIBaseURL(baseURL: string): boolean {
  return baseURL.replace(/\/+$/, '') === DEFAULT_OPENAI_BASE_URL;
}

/** The `openai` server is usable with a key, or without one when it points at another (keyless) server. */
function isOpenAIConfigured(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>): boolean {
  return Boolean(config.OPENAI_API_KEY) || !isOpenAIBaseURL(config.OPENAI_BASE_URL);
}

/** Anthropic is usable with a key, or without one when ANTHROPIC_BASE_URL points at another (keyless) server. */
function isAnthropicConfigured(config: Pick<Config, 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL'>): boolean {
  return (
    Boolean(config.ANTHROPIC_API_KEY) ||
    config.ANTHROPIC_BASE_URL.replace(/\/+$/, '') !== DEFAULT_ANTHROPIC_BASE_URL
  );
}

/**
 * Where a model name goes, or null when nothing configured can serve it.
 * `offline`; `openai/<model>` or a bare `<model>` (the `openai` server); `anthropic/<model>` (Anthropic's Messages
 * API); `<name>/<model>` (a MODEL_PROVIDERS server).
 * The model part may itself contain slashes (`vllm/meta-llama/Llama-3.1-8B-Instruct`).
 */
export function routeModel(name: string, config: RoutingConfig): ModelRoute | null {
  if (name === OFFLINE_MODEL) return { provider: 'offline', model: OFFLINE_MODEL };
  const slash = name.indexOf('/');
  const prefix = slash > 0 ? name.slice(0, slash) : 'openai';
  const model = slash > 0 ? name.slice(slash + 1) : name;
  if (model.trim().length === 0 || model !== model.trim()) return null;
  if (prefix === 'openai') {
    if (!isOpenAIConfigured(config)) return null;
    return {
      provider: 'openai',
      model,
      endpoint: 'openai',
      baseURL: config.OPENAI_BASE_URL,
      apiMode: config.OPENAI_API_MODE,
    };
  }
  if (prefix === 'anthropic') {
    return isAnthropicConfigured(config)
      ? { provider: 'anthropic', model, baseURL: config.ANTHROPIC_BASE_URL }
      : null;
  }
  const server = config.MODEL_PROVIDERS[prefix];
  if (!server) return null;
  return { provider: 'openai', model, endpoint: prefix, baseURL: server.baseURL, apiMode: server.apiMode };
}

/** Prefixes of the providers whose own models the built-in tables name without a prefix. */
const firstPartyPrefixes = ['openai/', 'anthropic/'];

/**
 * The entry of a per-model table (prices, context budgets) for a model name: the exact name first; then, for
 * OpenAI's and Anthropic's own models (bare, `openai/` or `anthropic/`), the longest key the model starts with, so
 * dated snapshots such as `gpt-4o-2024-08-06` find `gpt-4o`. Models of other servers match only by their exact,
 * full name.
 */
export function findModelEntry<T>(table: Readonly<Record<string, T>>, modelName: string): T | undefined {
  const exact = table[modelName];
  if (exact !== undefined) return exact;
  const prefix = firstPartyPrefixes.find((candidate) => modelName.startsWith(candidate));
  const bare = prefix ? modelName.slice(prefix.length) : modelName;
  if (bare.includes('/')) return undefined;
  if (table[bare] !== undefined) return table[bare];
  const prefixes = Object.keys(table)
    .filter((key) => !key.includes('/') && bare.startsWith(`${key}-`))
    .sort((a, b) => b.length - a.length);
  return prefixes[0] === undefined ? undefined : table[prefixes[0]];
}
